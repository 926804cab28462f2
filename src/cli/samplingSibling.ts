/**
 * `sbnkit train` writes two model files when it re-estimates batch norm (src/cli/trainDeploy.ts):
 * `model.json`, the deployable mode network with statistics re-estimated under itself, and
 * `model-sampling.json`, the trained network with the statistics of sampled passes. An ensemble
 * (sampled networks) of `model.json` runs with the mode network's statistics, which is rarely
 * what a user wants; this says so once, on stderr, when the sibling file is there.
 */
import { existsSync } from 'node:fs'
import { basename, dirname, join } from 'node:path'

/**
 * The note for an ensemble of `model` when a `model-sampling.json` lies beside it and `model` is a
 * `model.json`; undefined otherwise (any other file name: the user chose it).
 * @example samplingSiblingNote('runs/a/model.json') // 'note: … runs/a/model-sampling.json …' when it exists
 */
export const samplingSiblingNote = (model: string, exists: (path: string) => boolean = existsSync): string | undefined => {
  if (basename(model) !== 'model.json') return undefined
  const sibling = join(dirname(model), 'model-sampling.json')
  return exists(sibling)
    ? `note: ${model} is the deployable mode network, its batch-norm statistics re-estimated under the mode network; ` +
        `the ensemble's sampled networks use them too. For an ensemble with the statistics of training, evaluate ${sibling}`
    : undefined
}
