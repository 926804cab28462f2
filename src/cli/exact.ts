/**
 * `sbnkit exact <model.json> --data <data.json> [--grad] [--budget N] [--json]`: the exact
 * expected loss of a model on a dataset (docs/interpreters.md), and with `--grad` the exact
 * gradient of every parameter. `--json` prints `{ "loss": …, "grad": { <param>: [...] } }` with
 * each gradient in its parameter's row-major order.
 *
 * Exit status: 0 ok; 2 bad input (a model or data file that cannot be read or decoded, data that
 * does not fit the model, a bad flag, an enumeration that would exceed `--budget`); 1 our bugs. Errors are
 * drawn on stderr, never as a stack trace.
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { drawDataErrors } from '../data/dataErrors.js'
import { readDataFile } from '../data/file.js'
import { drawModelErrors } from '../dsl/codec.js'
import type { Checked, Network, Param } from '../dsl/node.js'
import { showShape } from '../dsl/shape.js'
import { topoOrder } from '../dsl/fold.js'
import type { RunError } from '../interpreters/runErrors.js'
import { drawRunError } from '../interpreters/runErrors.js'
import { defaultBudget, exact } from '../interpreters/exact/index.js'
import type { Feed } from '../interpreters/ndarray.js'
import { readModelFile } from '../io/files.js'
import { evaluationBytes, fits } from '../interpreters/budget.js'
import { structure } from '../interpreters/exact/structure.js'
import { budgetOf, wholeNumber } from './args.js'
import type { Command, Io } from './io.js'
import { exitCode } from './io.js'

export const exactUsage = `usage: sbnkit exact <model.json> --data <data.json> [--grad] [--budget N] [--json]

Computes the exact expected loss of a stochastic binary network on a dataset, by enumerating
every joint state of its stochastic units (layer messages for chains), and with --grad the exact
gradient of every parameter (docs/interpreters.md).

options:
  --data FILE   dataset file (sbnkit-data/1, docs/data-format.md) with an array per model input
  --grad        also compute the exact gradient of every parameter
  --budget N    most joint states to visit (default ${defaultBudget.toLocaleString('en-US')} = 2^22)
  --json        print { "loss": …, "grad": { <param>: [...] } } (gradients in row-major order)
  -h, --help    print this help

exit status: 0 ok; 2 a model or data file that cannot be read, data that does not fit the
model, a bad flag, or an enumeration that needs more joint states than --budget.
`

// ---------------------------------------------------------------------------------------------
// Shared with `sbnkit sample`: reading the model and the data, and reporting run errors.

/** Writes `message` and `usage` on stderr and returns exit code 2. */
export const usageError = (io: Io, command: string, message: string, usage: string): number => {
  io.err(`sbnkit ${command}: ${message}\n\n${usage}`)
  return exitCode.badInput
}

/**
 * Reads a model file and a data file, each within the memory budget, and checks that one
 * evaluation of the network on the data's rows (times `rowsFactor`) fits the budget too; on
 * failure writes every error on stderr.
 */
export const readInputs = async (io: Io, modelPath: string, dataPath: string, rowsPerExample: (net: Checked<Network>) => number = () => 1): Promise<{ readonly net: Checked<Network>; readonly feed: Feed } | undefined> => {
  const budget = budgetOf(io)
  const net = await readModelFile(modelPath, { budget })
  if (E.isLeft(net)) {
    io.err(`${drawModelErrors(net.left, modelPath)}\n`)
    return undefined
  }
  const feed = await readDataFile(dataPath, { budget })
  if (E.isLeft(feed)) {
    io.err(`${drawDataErrors(feed.left)}\n`)
    return undefined
  }
  const rows = Object.values(feed.right)[0]?.shape[0] ?? 0
  const rowsFactor = rowsPerExample(net.right)
  const room = fits(budget, evaluationBytes(net.right, rows * rowsFactor), `${modelPath}: the network on ${rows} examples${rowsFactor === 1 ? '' : ` × ${rowsFactor} states`}`)
  if (E.isLeft(room)) {
    io.err(`${room.left}\n`)
    return undefined
  }
  return { net: net.right, feed: feed.right }
}

const dataErrors: ReadonlySet<RunError['_tag']> = new Set(['EmptyData', 'MissingInput', 'InputShapeMismatch', 'NonFiniteInput', 'LabelOutOfRange'])

/**
 * Draws a run error, prefixed with the file it is about; exit 2: every run error is about the
 * input (data, model, flags, an enumeration over `--budget`); our bugs are thrown, not returned.
 */
export const reportRunError = (io: Io, e: RunError, files: { readonly model: string; readonly data: string }): number => {
  const file = dataErrors.has(e._tag) ? `${files.data}: ` : e._tag === 'MissingOutput' || e._tag === 'Unsupported' ? `${files.model}: ` : ''
  io.err(`${file}${drawRunError(e)}\n`)
  return exitCode.badInput
}

/**
 * Runs a command body. A thrown error goes to the CLI's one boundary (`boundary.ts`, around every
 * command in `main`), which sorts user-caused failures (exit 2) from our bugs (exit 1).
 */
export const guarded = async (_io: Io, _command: string, body: () => Promise<number>): Promise<number> => body()

// ---------------------------------------------------------------------------------------------

const options = {
  data: { type: 'string' },
  grad: { type: 'boolean', default: false },
  budget: { type: 'string' },
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

/**
 * How many network rows per example the exact interpreter evaluates at once: 2^units of the
 * widest stochastic activation layer (layer messages evaluate every state of a layer together).
 */
export const enumerationRows = (net: Checked<Network>): number => {
  const loss = net.outputs['loss']
  if (loss?._tag !== 'Loss') return 1
  const widest = Math.max(0, ...structure(loss).activations.map((s) => s.units))
  return widest <= 30 ? 2 ** widest : 1
}

const shapes = (net: Checked<Network>): Map<string, readonly (number | 'batch')[]> =>
  new Map(topoOrder(Object.values(net.outputs)).filter((n): n is Param => n._tag === 'Param').map((p) => [p.name, p.type.shape]))

const fmt = (v: number): string => (Number.isInteger(v) ? String(v) : v.toPrecision(6))

/** The exact expected loss (and gradient) of a model file on a data file. */
export const exactCommand: Command = async (argv, io) => {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (err) {
    return usageError(io, 'exact', err instanceof Error ? err.message : String(err), exactUsage)
  }
  const o = parsed.values
  if (o.help) {
    io.out(exactUsage)
    return exitCode.ok
  }
  const [model, ...extra] = parsed.positionals
  if (model === undefined || extra.length > 0)
    return usageError(io, 'exact', `expected one model file, found ${parsed.positionals.length} arguments`, exactUsage)
  if (o.data === undefined) return usageError(io, 'exact', 'expected --data <data.json>', exactUsage)
  const parsedBudget = o.budget === undefined ? E.right(defaultBudget) : wholeNumber('--budget', o.budget, 1)
  if (E.isLeft(parsedBudget)) return usageError(io, 'exact', `${parsedBudget.left} (joint states)`, exactUsage)
  const budget = parsedBudget.right
  const data = o.data
  return guarded(io, 'exact', async () => {
    const inputs = await readInputs(io, model, data, enumerationRows)
    if (inputs === undefined) return exitCode.badInput
    const r = exact(inputs.net, inputs.feed, { grad: o.grad, budget, memory: budgetOf(io) })
    if (E.isLeft(r)) return reportRunError(io, r.left, { model, data })
    const { loss, grad, method, states, perExample } = r.right
    if (o.json) {
      const g = grad === undefined ? {} : { grad: Object.fromEntries(Object.entries(grad).map(([k, v]) => [k, [...v]])) }
      io.out(`${JSON.stringify({ loss, ...g }, null, 1)}\n`)
      return exitCode.ok
    }
    const how = method === 'chain' ? 'layer messages' : 'joint enumeration'
    io.out(`exact expected loss: ${loss}\n  ${perExample.length} examples, ${how}, ${states.toLocaleString('en-US')} joint states visited\n`)
    if (grad !== undefined) {
      const shapeOf = shapes(inputs.net)
      io.out('gradient of the expected loss (row-major; --json for full precision):\n')
      for (const [name, g] of Object.entries(grad)) io.out(`  ${name} ${showShape(shapeOf.get(name) ?? [g.length])}: ${[...g].map(fmt).join(' ')}\n`)
    }
    return exitCode.ok
  })
}
