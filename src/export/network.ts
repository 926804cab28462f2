/**
 * A deployed network (deploy.ts) back as an sbnkit network, so that every interpreter runs it:
 * the compiled one for speed (its lowering packs the ±1 weights and fuses each folded comparison
 * into integer thresholds), the reference and Monte Carlo ones as checks. The rebuilt network is
 * deterministic (every binarize has noise `none`) and has one output, the exported head.
 *
 * Layer by layer, with the parameters named after the layer (`layer1.W`, `layer1.d`, …):
 *
 *     SignDense  x → binarize(add(mul(matmul(x, binarize(W)), d), c))
 *     SignConv   x → binarize(add(mul([maxPool] conv2d(x, binarize(K)), d), c))   d, c: [O, 1, 1]
 *     Sign       x → binarize(x)
 *     MaxPool    x → pool('max', x)       Flatten   x → reshape(x, [batch, C·H·W])
 *     Linear     x → matmul(x, W) [+ b]   (W binarized when binary)
 *
 * The sums, the products by d ∈ {−1, 0, 1} and the additions of c are exact or computed as the
 * original network computed them, so the outputs are the original mode network's, bit for bit.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { DslError } from '../dsl/dslErrors.js'
import type { Checked, Network, Node } from '../dsl/node.js'
import { none } from '../dsl/noise.js'
import { add, binarize, conv2d, input, matmul, mul, param, pool, reshape } from '../dsl/primitives.js'
import { sizeOf } from '../dsl/shape.js'
import { typecheck } from '../dsl/typecheck.js'
import type { Deployed, Layer } from './deploy.js'

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The network that computes a deployed network's output, checked.
 * @example
 * const net = E.chain(toNetwork)(deploy(model)) // Either<…, Checked<Network>>
 */
export const toNetwork = (d: Deployed): E.Either<DslError, Checked<Network>> => {
  const params: Record<string, Float64Array> = {}
  const taken = new Set<string>()
  // Parameter names from layer labels, made unique when two layers share a label.
  const unique = (label: string): string => {
    let name = label
    for (let i = 2; taken.has(name); i++) name = `${label}#${i}`
    taken.add(name)
    return name
  }
  const p = (name: string, shape: readonly number[], values: Float64Array): Node => {
    params[name] = values
    return param(name, shape)
  }
  let h: Node = input(d.input.name, ['batch', ...d.input.shape], d.input.dtype)
  for (const layer of d.layers) h = layerNode(layer, h, unique(layer.label), p)
  return typecheck({ outputs: { [d.output]: h }, params })
}

// ---------------------------------------------------------------------------------------------
// Rules

type ParamFn = (name: string, shape: readonly number[], values: Float64Array) => Node

const layerNode = (layer: Layer, x: Node, name: string, p: ParamFn): Node => {
  switch (layer._tag) {
    case 'SignDense': {
      const w = binarize(p(`${name}.W`, [layer.k, layer.n], layer.weights), none, `${name}.W`)
      const s = mul(matmul(x, w), p(`${name}.d`, [layer.n], Float64Array.from(layer.fold.direction)))
      return binarize(add(s, p(`${name}.c`, [layer.n], layer.fold.bias)), none, `${name}.act`)
    }
    case 'SignConv': {
      const k = binarize(p(`${name}.W`, [layer.o, layer.c, layer.kh, layer.kw], layer.weights), none, `${name}.W`)
      const conv = conv2d(x, k, { stride: layer.stride, padding: layer.padding, padValue: layer.padValue })
      const sums = layer.pool === undefined ? conv : pool('max', conv, layer.pool.window, layer.pool.stride)
      const s = mul(sums, p(`${name}.d`, [layer.o, 1, 1], Float64Array.from(layer.fold.direction)))
      return binarize(add(s, p(`${name}.c`, [layer.o, 1, 1], layer.fold.bias)), none, `${name}.act`)
    }
    case 'Sign':
      return binarize(x, none, `${name}.act`)
    case 'MaxPool':
      return pool('max', x, layer.window, layer.stride)
    case 'Flatten':
      return reshape(x, ['batch', sizeOf(x.type.shape.slice(1))])
    case 'Linear': {
      const wv = p(`${name}.W`, [layer.k, layer.n], layer.weights)
      const out = matmul(x, layer.binaryWeights ? binarize(wv, none, `${name}.W`) : wv)
      return layer.bias === undefined ? out : add(out, p(`${name}.b`, [layer.n], layer.bias))
    }
  }
}
