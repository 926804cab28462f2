/**
 * The examples of docs/interpreters.md and docs/math.md run: each ```ts block of those pages is
 * either an import block (every name it imports must be exported by that sbnkit entry point) or a
 * body that appears verbatim (up to indentation) in this file, where it is executed with
 * `console.log` captured and its printed values checked.
 */
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { pipe } from 'fp-ts/lib/function.js'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import * as dslApi from '../../../src/dsl/index.js'
import * as interpretersApi from '../../../src/interpreters/index.js'
import { dense, initParams, input, key, logistic, logisticNll, sbinary, softmaxCrossEntropy, typecheck } from '../../../src/dsl/index.js'
import { compile, drawRunError, exact, monteCarlo, noiseFns, predict } from '../../../src/interpreters/index.js'

const root = fileURLToPath(new URL('../../../', import.meta.url))
const thisFile = readFileSync(fileURLToPath(import.meta.url), 'utf8')
const normalise = (s: string): string => s.split('\n').map((l) => l.trim()).filter((l) => l !== '').join('\n')
const entryPoints: Readonly<Record<string, object>> = { 'sbnkit/dsl': dslApi, 'sbnkit/interpreters': interpretersApi }

const blocks = (page: string): string[] =>
  [...readFileSync(`${root}docs/${page}`, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!)

/** A captured console for the verbatim bodies below. */
const capture = (): { readonly log: (...args: unknown[]) => void; readonly lines: unknown[][] } => {
  const lines: unknown[][] = []
  return { log: (...args) => void lines.push(args), lines }
}

describe('doc examples', () => {
  for (const page of ['interpreters.md', 'math.md'])
    it(`${page}: every ts block is a checked import block or runs verbatim here`, () => {
      const found = blocks(page)
      expect(found.length).toBeGreaterThan(0)
      for (const block of found) {
        const imports = [...block.matchAll(/import \{([^}]*)\} from '(sbnkit\/[a-z]+)'/g)]
        for (const [, names, from] of imports) {
          const api = entryPoints[from!]
          if (api === undefined) continue
          for (const name of names!.split(',').map((n) => n.trim())) expect(name in api, `${name} from ${from}`).toBe(true)
        }
        const body = normalise(block.split('\n').filter((l) => !l.startsWith('import ')).join('\n'))
        if (body !== '') expect(normalise(thisFile).includes(body), `a block of ${page} is not run by this test:\n${body}`).toBe(true)
      }
    })

  it('interpreters.md: exact, gradient, Monte Carlo and a budget error', () => {
    const console = capture()
    // ---- verbatim from docs/interpreters.md ----
    const x = input('x', ['batch', 2])
    const y = input('y', ['batch'], 'index')
    const logits = pipe(x, dense(3, { name: 'l1' }), sbinary(logistic(1)), dense(2, { name: 'head' }))
    const net = typecheck({
      outputs: { output: logits, loss: softmaxCrossEntropy(y)(logits) },
      params: {
        'l1.W': Float64Array.of(1, -0.5, 0.3, 0.8, -1.2, 0.4), 'l1.b': Float64Array.of(0.1, -0.2, 0.3),
        'head.W': Float64Array.of(0.7, -0.7, -1.1, 1.1, 0.4, -0.4), 'head.b': Float64Array.of(0, 0),
      },
    })
    const feed = {
      x: { shape: [2, 2], data: Float64Array.of(0.5, -1, 1, 1) },
      y: { shape: [2], data: Float64Array.of(0, 1) },
    }
    if (E.isRight(net)) {
      const ex = exact(net.right, feed, { grad: true })
      const mc = monteCarlo(net.right, feed, { samples: 4000, key: key(0) })
      if (E.isRight(ex) && E.isRight(mc)) {
        console.log(ex.right.loss, ex.right.method, ex.right.states) // 2.5306…, 'chain', 32
        console.log(ex.right.grad?.['l1.b'])                        // ∂L/∂b of the hidden layer
        console.log(mc.right.mean, '±', mc.right.stderr)             // within a few stderr of the exact loss
      }
      const tooBig = exact(net.right, feed, { budget: 10 })
      if (E.isLeft(tooBig)) console.log(drawRunError(tooBig.left))  // exact: enumeration needs 32 joint states, …
    }
    // ---- end ----
    const [[loss, method, states], [gradB], [mean, , stderr], [message]] = console.lines as [[number, string, number], [Float64Array], [number, string, number], [string]]
    expect({ loss, method, states }).toMatchInlineSnapshot(`
      {
        "loss": 2.53066382642535,
        "method": "chain",
        "states": 32,
      }
    `)
    expect(gradB).toHaveLength(3)
    expect(Math.abs(mean - loss)).toBeLessThanOrEqual(4 * stderr)
    expect(message).toMatchInlineSnapshot(`"exact: enumeration needs 32 joint states, over the budget of 10 (stochastic sites: l1.act (3 units)); use the Monte Carlo interpreter, a smaller network, or raise the budget"`)
  })

  it('interpreters.md: prediction without labels, with every interpreter', () => {
    const console = capture()
    // ---- verbatim from docs/interpreters.md ----
    const x = input('x', ['batch', 2])
    const logits = pipe(x, dense(3, { name: 'l1' }), sbinary(logistic(1)), dense(2, { name: 'head' }))
    const outputs = { output: logits, loss: softmaxCrossEntropy(input('y', ['batch'], 'index'))(logits) }
    const net = typecheck({ outputs, params: initParams(outputs, key(0)) })
    const inputs = { x: { shape: [2, 2], data: Float64Array.of(0.5, -1, 1, 1) } } // no labels
    if (E.isRight(net)) {
      const mode = predict(net.right, inputs, { interpreter: 'mode' })                 // right({ predictive, classes })
      const ensemble = predict(net.right, inputs, { interpreter: 'ensemble', members: 16, key: key(1) })
      const exactly = predict(net.right, inputs, { interpreter: 'exact' })
      const compiled = compile(net.right, { backend: 'wasm', mode: 'mode', outputs: ['output'] })
      const logitsOut = E.isRight(compiled) ? compiled.right.run(inputs) : undefined  // right({ output })
      console.log(mode, ensemble, exactly, logitsOut)
    }
    // ---- end of the verbatim part ----
    const printed = console.lines[0] ?? []
    expect(printed).toHaveLength(4)
    for (const r of printed) expect(r !== undefined && E.isRight(r as E.Either<unknown, unknown>)).toBe(true)
  })

  it('math.md: the exact interpreter reproduces E[f(x)] and its derivative for a single unit', () => {
    const console = capture()
    // ---- verbatim from docs/math.md ----
    const a = 0.5
    const xIn = input('x', ['batch', 1])
    const label = input('y', ['batch', 1], 'binary')
    const eta = pipe(xIn, dense(1, { name: 'unit' }), sbinary(logistic(1)), dense(1, { name: 'head' }))
    const unitNet = typecheck({
      outputs: { loss: logisticNll(label)(eta) },
      params: { 'unit.W': Float64Array.of(0), 'unit.b': Float64Array.of(a), 'head.W': Float64Array.of(3), 'head.b': Float64Array.of(1) },
    })
    const data = { x: { shape: [1, 1], data: Float64Array.of(0) }, y: { shape: [1, 1], data: Float64Array.of(1) } }
    const F = noiseFns(logistic(1))
    const nll = (v: number): number => Math.log1p(Math.exp(-v))   // ℓ(η, y = +1)
    const closedForm = F.cdf(a) * nll(4) + F.cdf(-a) * nll(-2)     // η = 3x + 1 at x = ±1
    const slope = F.pdf(a) * (nll(4) - nll(-2))                    // p(a)(ℓ(+1) − ℓ(−1))
    if (E.isRight(unitNet)) {
      const r = exact(unitNet.right, data, { grad: true })
      if (E.isRight(r)) console.log(r.right.loss - closedForm, (r.right.grad?.['unit.b']?.[0] ?? NaN) - slope) // ≈ 0 ≈ 0
    }
    // ---- end ----
    const [[dLoss, dSlope]] = console.lines as [[number, number]]
    expect(Math.abs(dLoss)).toBeLessThanOrEqual(1e-15)
    expect(Math.abs(dSlope)).toBeLessThanOrEqual(1e-15)
  })
})
