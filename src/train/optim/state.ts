/**
 * Optimizer state to and from JSON for checkpoints. Each slot is the base64 of its float64
 * values in little-endian byte order, so the round trip is exact for every value, including
 * −0, NaN payloads and infinities (which decimal JSON numbers cannot carry), and a resumed run
 * continues bit-identically.
 */
import * as E from 'fp-ts/lib/Either.js'

// ---------------------------------------------------------------------------------------------
// Model

/** An optimizer's state: the number of steps taken and per-parameter slots (momentum, moments…). */
export interface OptimizerState {
  readonly step: number
  readonly slots: Readonly<Record<string, readonly Float64Array[]>>
}

/** The JSON form of an `OptimizerState`: `{ "step": 3, "slots": { "dense1.W": ["AAAA…", …] } }`. */
export interface EncodedState {
  readonly step: number
  readonly slots: Readonly<Record<string, readonly string[]>>
}

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The JSON-ready form of an optimizer state (exact: float64 little-endian, base64).
 * @example
 * JSON.stringify(encodeState({ step: 1, slots: { w: [Float64Array.of(0.5)] } }))
 * // {"step":1,"slots":{"w":["AAAAAAAA4D8="]}}
 */
export const encodeState = (state: OptimizerState): EncodedState => ({
  step: state.step,
  slots: Object.fromEntries(Object.entries(state.slots).map(([name, slots]) => [name, slots.map(toBase64)])),
})

/**
 * Decodes a state read from JSON; errors name the field (`slots.dense1.W[1]`), what was expected
 * and what was found.
 * @example
 * decodeState(JSON.parse('{"step":1,"slots":{"w":["AAAAAAAA4D8="]}}')) // right({ step: 1, slots: { w: [Float64Array [0.5]] } })
 */
export const decodeState = (raw: unknown): E.Either<string, OptimizerState> => {
  if (!isObject(raw)) return E.left(`optimizer state: expected an object {"step", "slots"}, found ${show(raw)}`)
  const step = raw['step']
  if (typeof step !== 'number' || !Number.isInteger(step) || step < 0)
    return E.left(`optimizer state.step: expected a non-negative integer, found ${show(step)}`)
  const rawSlots = raw['slots']
  if (!isObject(rawSlots)) return E.left(`optimizer state.slots: expected an object from parameter names to arrays of base64 strings, found ${show(rawSlots)}`)
  const slots: Record<string, Float64Array[]> = {}
  for (const [name, list] of Object.entries(rawSlots)) {
    if (!Array.isArray(list)) return E.left(`optimizer state.slots.${name}: expected an array of base64 strings, found ${show(list)}`)
    const decoded: Float64Array[] = []
    for (const [i, s] of list.entries()) {
      const d = fromBase64(s)
      if (d === undefined)
        return E.left(`optimizer state.slots.${name}[${i}]: expected base64 of float64 values (a multiple of 8 bytes), found ${show(s)}`)
      decoded.push(d)
    }
    slots[name] = decoded
  }
  return E.right({ step, slots })
}

// ---------------------------------------------------------------------------------------------
// Utilities

const isObject = (u: unknown): u is Readonly<Record<string, unknown>> => typeof u === 'object' && u !== null && !Array.isArray(u)

const show = (u: unknown): string => {
  const s = typeof u === 'string' ? JSON.stringify(u) : u === undefined ? 'nothing' : JSON.stringify(u) ?? String(u)
  return s.length > 60 ? `${s.slice(0, 57)}...` : s
}

/** The little-endian bytes of `a`, bit for bit (NaN payloads included), as base64. */
const toBase64 = (a: Float64Array): string => {
  const bytes = new Uint8Array(a.length * 8)
  const view = new DataView(bytes.buffer)
  for (let i = 0; i < a.length; i++) view.setFloat64(i * 8, a[i]!, true)
  let binary = ''
  for (let i = 0; i < bytes.length; i += CHUNK) binary += String.fromCharCode(...bytes.subarray(i, i + CHUNK))
  return btoa(binary)
}

/** Bytes per `String.fromCharCode` call: well under every engine's argument limit. */
const CHUNK = 8192

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/

const fromBase64 = (s: unknown): Float64Array | undefined => {
  if (typeof s !== 'string' || s.length % 4 !== 0 || !BASE64.test(s)) return undefined
  const binary = atob(s)
  if (binary.length % 8 !== 0) return undefined
  const view = new DataView(new ArrayBuffer(binary.length))
  for (let i = 0; i < binary.length; i++) view.setUint8(i, binary.charCodeAt(i))
  const out = new Float64Array(binary.length / 8)
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat64(i * 8, true)
  return out
}
