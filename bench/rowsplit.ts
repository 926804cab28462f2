/**
 * `npx tsx bench/rowsplit.ts`: the MNIST MLP 784 → 4096 → 4096 → 10 from uint8 pixels at batch
 * 256 (bench:peers' `mlp784-4096-4096-10` through `infer`), on one thread and on two with each
 * row split of `compile`'s `rowSplit` (`even`: equal halves; `adaptive`: the calling thread's
 * share follows the threads' observed speeds; `chunks`, the default: chunks of rows claimed by
 * whichever thread is free), in interleaved rounds, outputs checked equal first.
 * Prints wall ms per call, median (min–max), the two-thread speed-ups per round, and process CPU
 * ms per call. On a machine whose cores also run other work (e.g. niced training), the even
 * split waits for the slower core; that is what the adaptive and chunked ones are for. `BENCH_ROUNDS` sets the
 * rounds (default 9).
 */
import * as E from 'fp-ts/lib/Either.js'
import { loadavg } from 'node:os'
import { compile } from '../src/interpreters/compiled/index.js'
import type { Compiled, CompileOptions } from '../src/interpreters/compiled/index.js'
import { mnistMlp, pixelFeed } from './layers.js'
import { range, roundsWithCpu, summary } from './stats.js'

const main = (): void => {
  const net = mnistMlp()
  const build = (opts: Partial<CompileOptions>): Compiled => {
    const c = compile(net, { backend: 'wasm', mode: 'mode', ...opts })
    if (E.isLeft(c)) throw new Error(JSON.stringify(c.left))
    return c.right
  }
  const nets: Record<string, Compiled> = {
    '1 thread': build({}),
    '2 threads, even': build({ threads: 2, rowSplit: 'even' }),
    '2 threads, adaptive': build({ threads: 2, rowSplit: 'adaptive' }),
    '2 threads, chunks': build({ threads: 2, rowSplit: 'chunks' }),
  }
  const px = pixelFeed(256)['pixels']!.data
  const input = { pixels: { shape: [256, 784], data: Uint8Array.from(px) } }
  const outs: Record<string, Float32Array> = {}
  const calls: Record<string, () => void> = {}
  for (const [name, c] of Object.entries(nets)) {
    const into = (outs[name] = new Float32Array(2560))
    calls[name] = () => {
      if (E.isLeft(c.infer(input, { outputs: { output: 'float32' }, into: { output: into } }))) throw new Error('infer')
    }
    calls[name]!()
  }
  for (const name of Object.keys(nets)) if (outs[name]!.some((v, i) => v !== outs['1 thread']![i])) throw new Error(`${name}: logits differ from one thread's`)
  const { rounds, wall: t, cpu } = roundsWithCpu(calls, { label: 'bench:rowsplit', minMs: 300, warmMs: 300 })
  console.log('MLP 784→4096→4096→10, batch 256, infer from uint8: ms per call, median (min–max); process CPU ms per call')
  for (const name of Object.keys(calls)) console.log(`  ${name.padEnd(20)} ${range(summary(t[name]!), 2).padEnd(24)} cpu ${range(summary(cpu[name]!), 2)}`)
  const up = (name: string): string => range(summary(t[name]!.map((v, i) => t['1 thread']![i]! / v)), 2)
  console.log(`  two threads vs one, per round: even ${up('2 threads, even')}×, adaptive ${up('2 threads, adaptive')}×, chunks ${up('2 threads, chunks')}×`)
  console.log(`${rounds} interleaved rounds; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  for (const c of Object.values(nets)) c.close()
}

main()
