/**
 * `sbnkit export <model.json> --format packed|onnx --out FILE [--real f32|f64] [--output NAME]`:
 * writes the model's mode network as a packed 1-bit file (`sbnkit-packed/1`) or an ONNX graph
 * (docs/export.md), atomically. Exit status: 0 written; 2 bad input (a model that cannot be read
 * or exported, a bad flag) or a file that cannot be written; 1 a bug of sbnkit.
 */
import { parseArgs } from 'node:util'
import * as E from 'fp-ts/lib/Either.js'
import { drawModelErrors } from '../dsl/codec.js'
import { summary } from '../interpreters/summary.js'
import { readModelFile, writeFileAtomic } from '../io/files.js'
import { deploy } from '../export/deploy.js'
import { drawExportError } from '../export/exportErrors.js'
import { encodeOnnx, onnxOpset } from '../export/onnx.js'
import { encodePacked, packedFormat } from '../export/packed.js'
import { guarded, usageError } from './exact.js'
import type { Command } from './io.js'
import { exitCode } from './io.js'
import { budgetOf } from './args.js'

export const exportUsage = `usage: sbnkit export <model.json> --format packed|onnx --out FILE [--real f32|f64] [--output NAME]

Writes the model's mode network (every binary unit x = sign(a), batch norm with its running
statistics) for deployment, see docs/export.md:

  packed   ${packedFormat}: binary weights at 1 bit each, batch norm and biases folded into
           one threshold per unit, the real head in float32; loaded by readPacked/loadPacked
           (sbnkit/export) in Node and in the browser, with the mode network's outputs
  onnx     a standard ONNX graph (opset ${onnxOpset}: MatMul/Conv, Add, Sign, MaxPool, Flatten),
           input and output in double, for any ONNX runtime

options:
  --format F     packed or onnx
  --out FILE     the file to write (written atomically)
  --real R       packed: store the real head in f32 (default, as the summary counts it) or f64
                 (outputs then equal the model's bit for bit)
  --output NAME  the model output to export (default output)
  -h, --help     print this help

exit status: 0 written; 2 a model that cannot be read or exported, a bad flag, or a file that
cannot be written (a read-only or full disk); 1 a bug of sbnkit.
`

const options = {
  format: { type: 'string' },
  out: { type: 'string' },
  real: { type: 'string' },
  output: { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const

const bytes = (n: number): string => `${n.toLocaleString('en-US')} bytes`

/** Exports a model file. */
export const exportCommand: Command = async (argv, io) => {
  let parsed: ReturnType<typeof parseArgs<{ args: string[]; options: typeof options; allowPositionals: true }>>
  try {
    parsed = parseArgs({ args: [...argv], options, allowPositionals: true, strict: true })
  } catch (err) {
    return usageError(io, 'export', err instanceof Error ? err.message : String(err), exportUsage)
  }
  const o = parsed.values
  if (o.help) {
    io.out(exportUsage)
    return exitCode.ok
  }
  const [model, ...extra] = parsed.positionals
  if (model === undefined || extra.length > 0)
    return usageError(io, 'export', `expected one model file, found ${parsed.positionals.length} arguments`, exportUsage)
  if (o.format !== 'packed' && o.format !== 'onnx')
    return usageError(io, 'export', o.format === undefined ? 'expected --format packed or --format onnx' : `--format expects packed or onnx, found "${o.format}"`, exportUsage)
  if (o.out === undefined) return usageError(io, 'export', 'expected --out FILE', exportUsage)
  if (o.real !== undefined && o.real !== 'f32' && o.real !== 'f64') return usageError(io, 'export', `--real expects f32 or f64, found "${o.real}"`, exportUsage)
  if (o.real !== undefined && o.format !== 'packed') return usageError(io, 'export', '--real applies to --format packed only', exportUsage)
  const { format, out } = o
  const real = o.real ?? 'f32'
  return guarded(io, 'export', async () => {
    const net = await readModelFile(model, { budget: budgetOf(io) })
    if (E.isLeft(net)) {
      io.err(`${drawModelErrors(net.left, model)}\n`)
      return exitCode.badInput
    }
    const d = deploy(net.right, o.output ?? 'output')
    if (E.isLeft(d)) {
      io.err(`${drawExportError(d.left, model)}\n`)
      return exitCode.badInput
    }
    const data = format === 'packed' ? encodePacked(d.right, { real }) : encodeOnnx(d.right)
    const written = await writeFileAtomic(out, data)
    if (E.isLeft(written)) {
      io.err(`${drawModelErrors([written.left])}\n`)
      return exitCode.badInput
    }
    const what = format === 'packed' ? `${packedFormat}, binary weights at 1 bit, real head in ${real === 'f32' ? 'float32' : 'float64'}` : `ONNX opset ${onnxOpset}`
    io.out(`wrote ${out}: ${bytes(data.length)} (${what}); the model's summary counts ${bytes(summary(net.right).total.bytes)} of parameters\n`)
    return exitCode.ok
  })
}
