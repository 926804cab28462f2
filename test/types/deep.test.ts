/**
 * A 256-layer network type-checks without "excessively deep" errors, written three ways: one
 * expression of 256 steps (nested pipes), a typed block of 16 layers applied 16 times, and `mlp`
 * with 256 literal widths. The type-level shape of each layer is computed once per step
 * (no recursion over the depth of the network), so the cost grows linearly with depth.
 * The rows of `L` below were written by a script: 16 nested pipes of 16 layers each.
 */
import * as E from 'fp-ts/lib/Either.js'
import { flow, pipe } from 'fp-ts/lib/function.js'
import { describe, expect, it } from 'vitest'
import { dense, mlp, sbinary } from '../../src/dsl/composites.js'
import type { Network } from '../../src/dsl/node.js'
import { input } from '../../src/dsl/primitives.js'
import type { Tensor } from '../../src/dsl/primitives.js'
import { sizeOf } from '../../src/dsl/shape.js'
import { typecheck } from '../../src/dsl/typecheck.js'
import { topoOrder } from '../../src/dsl/fold.js'
import { assertType } from './equal.js'
import type { Equal } from './equal.js'

/** One layer: a real dense layer of width 64 and a stochastic binary activation. */
const L = flow(dense(64), sbinary())

const zeros = (outputs: Network['outputs']): Network['params'] =>
  Object.fromEntries(
    topoOrder(Object.values(outputs)).flatMap((n) => (n._tag === 'Param' ? [[n.name, new Float64Array(sizeOf(n.type.shape))]] : [])),
  )
const layers = (t: Tensor): number => topoOrder([t]).filter((n) => n._tag === 'MatMul').length

describe('a 256-layer network', () => {
  const x = input('x', ['batch', 64])

  it('one expression of 256 dense + sbinary steps', () => {
    const deep = pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(pipe(x,
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L),
  L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L)
    assertType<Equal<typeof deep, Tensor<['batch', 64]>>>()
    expect(layers(deep)).toBe(256)
    expect(E.isRight(typecheck({ outputs: { deep }, params: zeros({ deep }) }))).toBe(true)
  })

  it('a reusable block of 16 layers on a fixed shape, applied 16 times', () => {
    // A block is typed on its input shape; composing generic blocks with flow again is beyond what
    // tsc can check (their parameter types are conditional), see docs/dsl.md.
    const block = (t: Tensor<['batch', 64]>) => pipe(t, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L, L)
    const deep = pipe(x, block, block, block, block, block, block, block, block, block, block, block, block, block, block, block, block)
    assertType<Equal<typeof deep, Tensor<['batch', 64]>>>()
    expect(layers(deep)).toBe(256)
  })

  it('mlp with 256 literal hidden widths', () => {
    const net = pipe(x, mlp({
      hidden: [
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64, 64,
      64, 64, 64,
      ],
      outputs: 10,
    }))
    assertType<Equal<typeof net, Tensor<['batch', 10]>>>()
    expect(layers(net)).toBe(257)
  })
})
