/**
 * JSON results on stdout, byte-reproducible for a fixed seed: wall-clock fields (`seconds`,
 * `ms`, …) are moved out of the result into one separate `timing` field that mirrors their
 * place, and `--no-timing` (a global flag, `io.timing === false`) drops that field. Everything
 * else is a function of the inputs and the seed, so two runs print the same bytes.
 *
 * @example
 * jsonText(io, { loss: 0.5, epochs: [{ loss: 0.6, seconds: 1.2 }] })
 * // {"loss": 0.5, "epochs": [{"loss": 0.6}], "timing": {"epochs": [{"seconds": 1.2}]}}
 */
import type { Io } from './io.js'

/** The field names that hold wall-clock measurements. */
export const timingKeys: ReadonlySet<string> = new Set(['seconds', 'ms', 'msPerRun', 'elapsed', 'wallClock', 'examplesPerSecond', 'gmacPerSecond'])

type Json = null | boolean | number | string | Json[] | { [key: string]: Json }

const isRecord = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

/**
 * Splits `value` into the result without timing fields and the timing fields alone (undefined
 * when there are none), both keeping the nesting of the original.
 */
export const splitTiming = (value: unknown, isTiming: (key: string) => boolean = (k) => timingKeys.has(k)): { readonly result: unknown; readonly timing: unknown } => {
  if (Array.isArray(value)) {
    const parts = value.map((v) => splitTiming(v, isTiming))
    const timed = parts.some((p) => p.timing !== undefined)
    return { result: parts.map((p) => p.result), timing: timed ? parts.map((p) => p.timing ?? null) : undefined }
  }
  if (!isRecord(value)) return { result: value, timing: undefined }
  // Null-prototype records: a key named "__proto__" in a result is an ordinary key.
  const result: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  const timing: Record<string, unknown> = Object.create(null) as Record<string, unknown>
  let timed = false
  for (const [k, v] of Object.entries(value)) {
    if (isTiming(k)) {
      timing[k] = v
      timed = true
      continue
    }
    const part = splitTiming(v, isTiming)
    result[k] = part.result
    if (part.timing !== undefined) {
      timing[k] = part.timing
      timed = true
    }
  }
  return { result, timing: timed ? timing : undefined }
}

/** Non-finite numbers are not JSON: written as null. */
const finite = (_: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? null : v)

/**
 * The JSON text of a result (with a final newline): timing fields gathered under `timing`, or
 * left out under `--no-timing`.
 */
export const jsonText = (io: Pick<Io, 'timing'>, value: unknown, indent = 1): string => {
  const { result, timing } = splitTiming(value)
  const out = timing === undefined || io.timing === false || !isRecord(result) ? result : { ...(result as Record<string, Json>), timing }
  return `${JSON.stringify(out, finite, indent)}\n`
}
