/**
 * `npx tsx bench/mlpThreads.ts`: the MNIST MLP 784 → 4096 → 4096 → 10 (batch 256, uint8 pixels,
 * `infer`) on one thread and on two (chunks on demand), in interleaved rounds, with the CPU time
 * of every thread of the process per call (threadCpu.ts): whether the two threads' CPU per call
 * adds up to one thread's (the split's own cost: chunks re-stream the weights) and how the work
 * divides between the calling thread and the worker. `BENCH_ROUNDS` sets the rounds (default 9).
 */
import * as E from 'fp-ts/lib/Either.js'
import { loadavg } from 'node:os'
import { compile } from '../src/interpreters/compiled/index.js'
import type { Compiled } from '../src/interpreters/compiled/index.js'
import { mnistMlp, pixelFeed } from './layers.js'
import { range, summary } from './stats.js'
import { cpuBetween, threadCpuMs } from './threadCpu.js'

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 9)

const main = (): void => {
  const net = mnistMlp()
  const build = (threads: number): Compiled => {
    const c = compile(net, { backend: 'wasm', mode: 'mode', threads })
    if (E.isLeft(c)) throw new Error(JSON.stringify(c.left))
    return c.right
  }
  const nets = { one: build(1), two: build(2) }
  const input = { pixels: { shape: [256, 784], data: Uint8Array.from(pixelFeed(256)['pixels']!.data) } }
  const outs = { one: new Float32Array(2560), two: new Float32Array(2560) }
  const call = (name: 'one' | 'two'): void => {
    if (E.isLeft(nets[name].infer(input, { outputs: { output: 'float32' }, into: { output: outs[name] } }))) throw new Error('infer')
  }
  for (let i = 0; i < 5; i++) (['one', 'two'] as const).forEach(call)
  if (outs.two.some((v, i) => v !== outs.one[i])) throw new Error('two threads differ from one')
  const wall: Record<string, number[]> = { one: [], two: [] }
  const main: Record<string, number[]> = { one: [], two: [] }
  const others: Record<string, number[]> = { one: [], two: [] }
  for (let r = 0; r < ROUNDS; r++) {
    process.stderr.write(`bench:mlpThreads: round ${r + 1}/${ROUNDS}\n`)
    for (const name of ['one', 'two'] as const) {
      const before = threadCpuMs()!
      const t0 = performance.now()
      let calls = 0
      do {
        call(name)
        calls++
      } while (performance.now() - t0 < 300)
      wall[name]!.push((performance.now() - t0) / calls)
      const cpu = cpuBetween(before, threadCpuMs()!)
      main[name]!.push((cpu.get(process.pid) ?? 0) / calls)
      // Every other thread of the process (the worker, and V8's or Node's own, which idle here).
      others[name]!.push([...cpu].filter(([tid]) => tid !== process.pid).reduce((s, [, ms]) => s + ms, 0) / calls)
    }
  }
  console.log('MLP 784→4096→4096→10, batch 256, infer from uint8: ms per call, median (min–max)')
  for (const name of ['one', 'two'] as const)
    console.log(`  ${name === 'one' ? '1 thread ' : '2 threads'} wall ${range(summary(wall[name]!), 2).padEnd(22)} calling thread cpu ${range(summary(main[name]!), 2).padEnd(22)} other threads cpu ${range(summary(others[name]!), 2)}`)
  const up = summary(wall['one']!.map((v, i) => v / wall['two']![i]!))
  const cost = summary(main['two']!.map((v, i) => (v + others['two']![i]!) / (main['one']![i]! + others['one']![i]!)))
  console.log(`  two vs one per round ${range(up, 2)}×; CPU of two threads / one ${range(cost, 2)}×`)
  console.log(`${ROUNDS} interleaved rounds; node ${process.version}; load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}`)
  nets.one.close()
  nets.two.close()
}

main()
