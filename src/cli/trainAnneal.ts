/**
 * `sbnkit train --anneal S`: what the command needs besides `trainAnnealed` (src/train/anneal.ts).
 * Annealing rebuilds every epoch's network from the run's *base* noise (epoch e trains the base
 * with every noise scale times s_e), but a checkpoint holds the network of its own epoch, whose
 * noise is already scaled. So a resumed annealed run rebuilds the base exactly as the run began
 * (the preset, or the model file read again) and gives it the checkpoint's parameters; rescaling
 * the checkpoint's noise instead could differ in the last bit and break bit-identical resumes.
 */
import * as E from 'fp-ts/lib/Either.js'
import { drawModelErrors } from '../dsl/codec.js'
import type { Checked, Network } from '../dsl/node.js'
import { readModelFile } from '../io/files.js'
import type { Anneal } from '../train/anneal.js'
import { annealScale } from '../train/anneal.js'
import type { Restored } from '../train/checkpoint.js'
import { withParams } from '../train/modes.js'
import type { Settings } from './trainSetup.js'
import { buildPreset } from './trainSetup.js'

// ---------------------------------------------------------------------------------------------
// Rules

/**
 * The run's base network (the noise of epoch 1) carrying the parameters to start from: `net` for
 * a new run; for a resumed one, the preset or model file rebuilt with the checkpoint's parameters.
 * @example await baseNetwork(settings, loaded, net, restored) // right(preset with the checkpoint's parameters)
 */
export const baseNetwork = async (
  s: Settings, data: Parameters<typeof buildPreset>[1], net: Checked<Network>, restored: Restored | undefined,
): Promise<E.Either<string, Checked<Network>>> => {
  if (restored === undefined) return E.right(net)
  let base: Checked<Network>
  if (s.preset !== undefined) {
    const p = buildPreset(s, data)
    if (E.isLeft(p)) return p
    base = p.right.net
  } else {
    const m = await readModelFile(s.model ?? '')
    if (E.isLeft(m)) return E.left(`--anneal: a resumed run re-reads its model file for the noise of epoch 1: ${drawModelErrors(m.left, s.model)}`)
    base = m.right
  }
  const have = Object.keys(restored.net.params).sort().join(',')
  if (Object.keys(base.params).sort().join(',') !== have)
    return E.left(`--anneal: the checkpoint's parameters (${have}) are not those of the run's ${s.preset === undefined ? `model file ${s.model}` : `preset ${s.preset}`}`)
  return E.right(withParams(base, restored.net.params))
}

/**
 * The run header's line about annealing: the scale factor of every epoch.
 * @example annealLine({ final: 0.25 }, 3) // '  noise annealed per epoch: ×1, ×0.5, ×0.25 of the base scales'
 */
export const annealLine = (a: Anneal, epochs: number): string => {
  const shown = Array.from({ length: Math.min(epochs, 6) }, (_, e) => `×${+annealScale(a, e, epochs).toPrecision(3)}`)
  return `  noise annealed per epoch: ${shown.join(', ')}${epochs > 6 ? `, … ×${a.final} at epoch ${epochs}` : ''} of the base scales`
}
