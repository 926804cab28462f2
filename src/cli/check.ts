/**
 * `sbnkit check <model.json> [--json]`: validates a model file (docs/model-format.md) and prints
 * its summary table, or its summary as JSON with `--json` (exit 0). An invalid file prints every
 * error found, one per line, on stderr (exit 2). Never a stack trace: user mistakes are values,
 * and a bug of ours is reported in one line (exit 1).
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { drawModelErrors, formatVersion } from '../dsl/codec.js'
import { renderSummary, summary, summaryJson } from '../interpreters/summary.js'
import { readModelFile } from '../io/files.js'
import { budgetOf } from './args.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'

export const checkUsage = `usage: sbnkit check <model.json> [--json]

Validates a model file (format ${formatVersion}, see docs/model-format.md) with the side files it
declares, and prints the network's summary: parameters (binary and real), memory, MACs and
stochastic sites, per layer and in total.

options:
  --json       print the summary as JSON instead of a table
  -h, --help   print this help

exit status: 0 the model is valid; 2 the model file is invalid (every error is printed on
stderr, one per line) or the arguments are wrong.
`

const options = {
  json: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
} as const

/** Validates a model file and prints its summary. */
export const check: Command = async (argv, io) => {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (err) {
    io.err(`sbnkit check: ${err instanceof Error ? err.message : String(err)}\n\n${checkUsage}`)
    return exitCode.badInput
  }
  if (parsed.values.help) {
    io.out(checkUsage)
    return exitCode.ok
  }
  const [path, ...extra] = parsed.positionals
  if (path === undefined || extra.length > 0) {
    io.err(`sbnkit check: expected one model file, found ${parsed.positionals.length} arguments\n\n${checkUsage}`)
    return exitCode.badInput
  }
  // A thrown error is our bug: the CLI's boundary (main.ts) reports it in one line.
  const net = await readModelFile(path, { budget: budgetOf(io) })
  if (E.isLeft(net)) {
    io.err(`${drawModelErrors(net.left, path)}\n`)
    return exitCode.badInput
  }
  const s = summary(net.right)
  if (parsed.values.json) io.out(`${JSON.stringify(summaryJson(s), null, 2)}\n`)
  else io.out(`${path}: a valid ${formatVersion} model\n\n${renderSummary(s)}\n`)
  return exitCode.ok
}
