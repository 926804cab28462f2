import { describe, expect, it } from 'vitest'
import { fans, glorotLimit, initParams, initValues } from '../../src/dsl/init.js'
import type { Init } from '../../src/dsl/node.js'
import { add, conv2d, input, matmul, param } from '../../src/dsl/primitives.js'
import { key, siteKey } from '../../src/dsl/random.js'

// A small net touching every init kind: dense [3, 4] + bias, a conv kernel, and a few scalars.
const x = input('x', ['batch', 3])
const w = param('w', [3, 4])
const b = param('b', [4], { kind: 'zeros' })
const hidden = add(matmul(x, w), b)
const v = param('v', [4, 2], { kind: 'normal', std: 0.5 })
const u = param('u', [2], { kind: 'uniform', low: -0.2, high: 0.7 })
const out = add(matmul(hidden, v), u)
const img = input('img', ['batch', 3, 8, 8])
const kernel = param('kernel', [5, 3, 3, 3])
const conv = conv2d(img, kernel)
const ones = param('gamma', [5, 1, 1], { kind: 'ones' })
const c = param('c', [3], { kind: 'constant', value: 2.5 })
const scaled = add(conv, ones)

const outputs = { output: out, conv: scaled, extra: add(x, c) }

describe('initParams', () => {
  const values = initParams(outputs, key(0))

  it('gives every reachable parameter its size, and nothing else', () => {
    expect(Object.keys(values).sort()).toEqual(['b', 'c', 'gamma', 'kernel', 'u', 'v', 'w'])
    const sizes = Object.fromEntries(Object.entries(values).map(([k, a]) => [k, a.length]))
    expect(sizes).toEqual({ w: 12, b: 4, v: 8, u: 2, kernel: 135, gamma: 5, c: 3 })
    expect(initParams({ output: out }, key(0))).not.toHaveProperty('kernel')
  })

  it('constant kinds', () => {
    expect([...values.b!]).toEqual([0, 0, 0, 0])
    expect([...values.gamma!]).toEqual([1, 1, 1, 1, 1])
    expect([...values.c!]).toEqual([2.5, 2.5, 2.5])
  })

  it('law: determinism (same outputs and key, same values)', () => {
    expect(initParams(outputs, key(0))).toEqual(values)
    expect(initParams(outputs, key(1)).w).not.toEqual(values.w)
  })

  it('law: values depend only on (key, name, shape, init), not on traversal order', () => {
    const reordered = initParams({ extra: add(x, c), conv: scaled, output: out }, key(0))
    expect(reordered).toEqual(values)
    const alone = initParams({ y: matmul(input('z', ['batch', 4]), v) }, key(0))
    expect(alone.v).toEqual(values.v)
    expect(values.w).toEqual(initValues({ kind: 'glorot' }, [3, 4], siteKey(key(0), 'init:w')))
  })

  it('tied parameters (one name, several nodes) get one value, whatever order they are met in', () => {
    const w1 = param('tied', [4, 4], { kind: 'uniform', low: 0, high: 1 })
    const w2 = param('tied', [4, 4], { kind: 'normal', std: 1 })
    const h = input('h', ['batch', 4])
    const a = initParams({ p: matmul(matmul(h, w1), w2) }, key(3))
    const bb = initParams({ p: matmul(matmul(h, w2), w1) }, key(3))
    expect(Object.keys(a)).toEqual(['tied'])
    expect(a).toEqual(bb)
  })
})

describe('glorot', () => {
  it('fans: [in, out] weights, [o, c, kh, kw] kernels, none below rank 2', () => {
    expect(fans([784, 512])).toEqual({ fanIn: 784, fanOut: 512 })
    expect(fans([8, 3, 5, 5])).toEqual({ fanIn: 75, fanOut: 200 })
    expect(fans([10])).toBeUndefined()
    expect(glorotLimit([784, 512])).toBe(Math.sqrt(6 / 1296))
  })

  it.each([
    ['dense', [300, 100], Math.sqrt(6 / 400)],
    ['conv', [16, 4, 3, 3], Math.sqrt(6 / (36 + 144))],
  ] as const)('%s weights lie in (−limit, limit) and fill it', (_, shape, limit) => {
    const vals = initValues({ kind: 'glorot' }, shape, key(5))
    const max = vals.reduce((m, a) => Math.max(m, Math.abs(a)), 0)
    expect(max).toBeLessThan(limit)
    // With n ≥ 576 uniform draws, P(max|v| < 0.99·limit) = 0.99^n < 0.004; the seed is fixed.
    expect(max).toBeGreaterThan(0.99 * limit)
  })

  it('rank-0 and rank-1 parameters (biases) are zeros', () => {
    expect([...initValues({ kind: 'glorot' }, [3], key(1))]).toEqual([0, 0, 0])
    expect([...initValues({ kind: 'glorot' }, [], key(1))]).toEqual([0])
  })
})

describe('random kinds have the right distribution (fixed seed)', () => {
  const n = 20_000
  const moments = (a: Float64Array): { mean: number; variance: number } => {
    const mean = a.reduce((s, y) => s + y, 0) / a.length
    return { mean, variance: a.reduce((s, y) => s + (y - mean) ** 2, 0) / (a.length - 1) }
  }

  it('normal(std): mean and variance within 4σ', () => {
    const std = 0.3
    const { mean, variance } = moments(initValues({ kind: 'normal', std }, [n], key(8)))
    // sd of the mean std/√n; sd of the sample variance std²·√(2/(n−1)) for normal data.
    expect(Math.abs(mean)).toBeLessThanOrEqual((4 * std) / Math.sqrt(n))
    expect(Math.abs(variance - std * std)).toBeLessThanOrEqual(4 * std * std * Math.sqrt(2 / (n - 1)))
  })

  it('uniform(low, high): inside the bounds, mean within 4σ', () => {
    const init: Init = { kind: 'uniform', low: -1, high: 3 }
    const vals = initValues(init, [n], key(9))
    expect(vals.every((y) => y > -1 && y < 3)).toBe(true)
    // sd of the mean (high − low)/√(12 n).
    expect(Math.abs(moments(vals).mean - 1)).toBeLessThanOrEqual((4 * 4) / Math.sqrt(12 * n))
  })
})
