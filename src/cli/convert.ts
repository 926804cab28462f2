/**
 * `sbnkit convert <model.json> --coding zero-one|plus-minus --out <file>`: rewrites a model into
 * the other state coding (MATH.md §1, `dsl/codings.ts`). The result computes the same
 * function, so its exact expected loss is the same; its parameters are the re-parametrised ones
 * (a {0,1} layer (W′, b′) = (2W, b − 1ᵀW) reads s = (x + 1)/2). The file is written atomically.
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { drawModelErrors } from '../dsl/codec.js'
import { drawCodingError, toPlusMinus, toZeroOne } from '../dsl/codings.js'
import { readModelFile, writeModelFile } from '../io/files.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'
import { budgetOf } from './args.js'

export const convertUsage = `usage: sbnkit convert <model.json> --coding zero-one|plus-minus --out <file.json>

Rewrites a model into the other coding of binary states. In the {0,1} coding (zero-one) every
dense layer that reads binary activations reads s = (x + 1)/2, written add(mul(x, 0.5), 0.5),
with parameters (2W, b − 1ᵀW); plus-minus undoes it. Both forms compute the same function (the
same exact expected loss); gradients map by the chain rule (docs/model-format.md).

options:
  --coding C   zero-one | plus-minus (the coding to convert to)
  --out FILE   where to write the converted model (atomically)
  -h, --help   print this help

exit status: 0 written; 2 a bad argument, an invalid model, or a layer the conversion cannot
rewrite (the error says which and why), or a file that cannot be written; 1 a bug of sbnkit.
`

const options = {
  coding: { type: 'string' },
  out: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const

/** Converts a model file to the {0,1} or the ±1 coding. */
export const convert: Command = async (argv, io) => {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (err) {
    io.err(`sbnkit convert: ${err instanceof Error ? err.message : String(err)}\n\n${convertUsage}`)
    return exitCode.badInput
  }
  const o = parsed.values
  if (o.help) {
    io.out(convertUsage)
    return exitCode.ok
  }
  const [path, ...extra] = parsed.positionals
  const bad = (why: string): number => {
    io.err(`sbnkit convert: ${why}\n\n${convertUsage}`)
    return exitCode.badInput
  }
  if (path === undefined || extra.length > 0) return bad(`expected one model file, found ${parsed.positionals.length} arguments`)
  if (o.coding !== 'zero-one' && o.coding !== 'plus-minus') return bad(`--coding expects zero-one or plus-minus, found ${o.coding === undefined ? 'nothing' : JSON.stringify(o.coding)}`)
  if (o.out === undefined) return bad('expected --out FILE')
  const net = await readModelFile(path, { budget: budgetOf(io) })
  if (E.isLeft(net)) {
    io.err(`${drawModelErrors(net.left, path)}\n`)
    return exitCode.badInput
  }
  const converted = (o.coding === 'zero-one' ? toZeroOne : toPlusMinus)(net.right)
  if (E.isLeft(converted)) {
    io.err(`sbnkit convert: ${path}: ${drawCodingError(converted.left)}\n`)
    return exitCode.badInput
  }
  const w = await writeModelFile(o.out, converted.right)
  if (E.isLeft(w)) {
    io.err(`${drawModelErrors(w.left, o.out)}\n`)
    return exitCode.badInput
  }
  io.out(`wrote ${o.out} (${o.coding} coding)\n`)
  return exitCode.ok
}
