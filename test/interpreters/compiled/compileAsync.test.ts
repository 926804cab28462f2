/**
 * compileAsync on Node is compile in a Promise: the same network, the same bits on 2 threads, the
 * same errors (its Web Worker start is tested in Chromium: test/browser/threads.browser-test.ts).
 */
import * as E from 'fp-ts/lib/Either.js'
import { afterAll, describe, expect, it } from 'vitest'
import { key } from '../../../src/dsl/random.js'
import { compileAsync } from '../../../src/interpreters/compiled/compileAsync.js'
import type { Compiled } from '../../../src/interpreters/compiled/index.js'
import { compile, drawCompileError } from '../../../src/interpreters/compiled/index.js'
import { nodeThreads } from '../../../src/threads/startThreads.js'
import { webHost, webRefusal } from '../../../src/threads/webWorkers.js'
import { build } from './nets.js'

const opened: Compiled[] = []
afterAll(() => opened.forEach((c) => c.close()))

const layer = { width: 40, weightNoise: { family: 'logistic' as const, scale: 1 }, bias: 'real' as const, scale: 'none' as const, batchNorm: 'none' as const, unary: 'none' as const, act: { family: 'logistic' as const, scale: 1 } }
const { net, feed } = build({ input: 'real', inputWidth: 30, layers: [layer, layer], head: 3, loss: false, batch: 9, seed: 77 })

describe('compileAsync on Node', () => {
  it('Node is neither a page nor a Web Worker', () => {
    expect(webHost()).toBeUndefined()
    expect(webRefusal()).toBe('this is not a web page or a Web Worker')
    expect(nodeThreads()).toBe(true)
  })

  it('law: compileAsync with 2 threads ≡ compile with one thread, bit for bit (sample mode)', async () => {
    const one = compile(net, { backend: 'wasm', mode: 'sample', threads: 1 })
    const two = await compileAsync(net, { backend: 'wasm', mode: 'sample', threads: 2 })
    if (E.isLeft(one) || E.isLeft(two)) throw new TypeError('compile')
    opened.push(one.right, two.right)
    expect(two.right.threads).toBe(2)
    const a = one.right.run(feed, key(5))
    const b = two.right.run(feed, key(5))
    if (E.isLeft(a) || E.isLeft(b)) throw new TypeError('run')
    expect(Array.from(b.right['output']!.data)).toEqual(Array.from(a.right['output']!.data))
  })

  it("wrong options give compile's errors", async () => {
    for (const opts of [{ threads: 0 }, { threads: 2, backend: 'js' as const }, { threads: 1.5 }]) {
      const got = await compileAsync(net, { backend: 'wasm', mode: 'mode', ...opts })
      const want = compile(net, { backend: 'wasm', mode: 'mode', ...opts })
      expect(E.isLeft(got) && drawCompileError(got.left)).toBe(E.isLeft(want) && drawCompileError(want.left))
    }
  })
})
