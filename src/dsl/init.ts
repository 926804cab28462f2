/**
 * Parameter initialisation: the values of every parameter of a network from the `Init` descriptor
 * on its `Param` node and a PRNG key. Pure: the same outputs and key give the same values.
 *
 * Each parameter draws from its own key, `siteKey(k, 'init:' + name)`, element i using draw i, so
 * its values depend only on (key, name, shape, init): not on the order in which the DAG is
 * traversed, nor on which other parameters exist.
 */
import type { Init, Network, Node, Param, Shape } from './node.js'
import type { Key } from './random.js'
import { fillUnit, siteKey } from './random.js'
import { sizeOf } from './shape.js'
import { topoOrder } from './fold.js'
import { noiseFns } from './distributions.js'
import { normal } from './noise.js'

// ---------------------------------------------------------------------------------------------
// Model

/** Fan-in and fan-out of a weight tensor, for Glorot's rule. */
export interface Fans {
  readonly fanIn: number
  readonly fanOut: number
}

const dims = (shape: Shape): number[] => shape.map((d) => (d === 'batch' ? 1 : d))

/**
 * The fans of a parameter of shape `shape`, or undefined when the rule does not apply:
 * - rank 2, a dense weight [in, out]: fanIn = in, fanOut = out;
 * - rank ≥ 3, a convolution kernel [out, in, k1, k2, …]: with r = k1·k2·…, fanIn = in·r,
 *   fanOut = out·r (rank 4 is the Conv2d kernel [o, c, kh, kw]);
 * - rank 0 and 1 (scalars, biases, scales): undefined, and `glorot` gives zeros there, the usual
 *   initial value of a bias (Glorot's variance argument is about weights that mix inputs).
 * @example fans([784, 512]) // { fanIn: 784, fanOut: 512 }
 */
export const fans = (shape: Shape): Fans | undefined => {
  const s = dims(shape)
  if (s.length < 2) return undefined
  if (s.length === 2) return { fanIn: s[0]!, fanOut: s[1]! }
  const receptive = s.slice(2).reduce((a, b) => a * b, 1)
  return { fanIn: s[1]! * receptive, fanOut: s[0]! * receptive }
}

/** The half-width sqrt(6 / (fanIn + fanOut)) of Glorot's uniform rule; 0 for rank < 2. */
export const glorotLimit = (shape: Shape): number => {
  const f = fans(shape)
  return f === undefined ? 0 : Math.sqrt(6 / (f.fanIn + f.fanOut))
}

// ---------------------------------------------------------------------------------------------
// Rules: one parameter's values

/**
 * The values of one parameter of shape `shape`, drawn with key `k` (the parameter's own key).
 * Random kinds use one uniform u_i = toUnit(bits(k, i)) per element i:
 * uniform: low + (high − low)·u_i; glorot: limit·(2u_i − 1); normal: std·Φ^−1(u_i).
 */
export const initValues = (init: Init, shape: Shape, k: Key): Float64Array => {
  const n = sizeOf(shape)
  const out = new Float64Array(n)
  switch (init.kind) {
    case 'zeros':
      return out
    case 'ones':
      return out.fill(1)
    case 'constant':
      return out.fill(init.value)
    case 'uniform': {
      fillUnit(k, 0, out)
      const width = init.high - init.low
      for (let i = 0; i < n; i++) out[i] = init.low + width * out[i]!
      return out
    }
    case 'glorot': {
      const limit = glorotLimit(shape)
      if (limit === 0) return out
      fillUnit(k, 0, out)
      for (let i = 0; i < n; i++) out[i] = limit * (2 * out[i]! - 1)
      return out
    }
    case 'normal': {
      fillUnit(k, 0, out)
      const icdf = noiseFns(normal(1)).icdf
      for (let i = 0; i < n; i++) out[i] = init.std * icdf(out[i]!)
      return out
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Constructors

// Tied parameters (one name, several nodes) get one value. Should their descriptors differ, the one
// whose JSON form sorts first wins, so the choice never depends on traversal order.
const descriptor = (p: Param): string => JSON.stringify([p.type.shape, p.init])

/**
 * Initial values of every parameter reachable from `outputs`, by name.
 * @example
 * const w = param('w', [2, 3])
 * initParams({ output: matmul(input('x', ['batch', 2]), w) }, key(0)).w.length // 6
 */
export const initParams = (outputs: Network['outputs'], k: Key): Record<string, Float64Array> => {
  const chosen = new Map<string, Param>()
  for (const node of topoOrder(Object.values(outputs)) as Node[]) {
    if (node._tag !== 'Param') continue
    const first = chosen.get(node.name)
    if (first === undefined || descriptor(node) < descriptor(first)) chosen.set(node.name, node)
  }
  const values: Record<string, Float64Array> = {}
  for (const [name, p] of chosen) values[name] = initValues(p.init, p.type.shape, siteKey(k, 'init:' + name))
  return values
}
