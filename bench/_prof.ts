import { binaryFeed, denseNet, timedLayer } from './layers.js'
import { none } from '../src/dsl/noise.js'
import { rounds, summary, range } from './stats.js'
import { bindShapes } from '../src/interpreters/bind.js'
const net = denseNet(1024, 1024, none, none, 11, true)
const feed = binaryFeed(256, 1024, 12)
const t = timedLayer(net, feed, 'wasm', 'mode')
const c = t.compiled
const x8 = Int8Array.from(feed['x']!.data)
const into = new Int32Array(256 * 32)
const inp = { x: { shape: [256, 1024], data: x8 } }
const ex = c.executor
const slot = c.plan.inputs[0]!
const stage = () => { ex.views().u8.set(new Uint8Array(x8.buffer), ex.addr(slot.buffer)) }
const res = rounds({
  kernel: { fn: t.layer },
  infer: { fn: () => c.infer(inp, { outputs: { y: 'bits' }, into: { y: into } }) },
  stage: { fn: stage },
  bind: { fn: () => bindShapes(net, (n) => inp.x.shape) },
}, 9)
for (const [k, v] of Object.entries(res)) console.log(k, range(summary(v), 4))
console.log('ratio', range(summary(res['infer']!.map((x, i) => x / res['kernel']![i]!))))
import { entriesOf } from '../src/interpreters/compiled/entries.js'
const e = entriesOf(c.plan, true).bits.get('x')!
// entry kernels are distinct objects per entriesOf call; use the executor's own through infer: time whole infer minus kernel instead
const r2 = rounds({ kernel: { fn: t.layer }, pack: { fn: () => { stage(); } }, infer: { fn: () => c.infer(inp, { outputs: { y: 'bits' }, into: { y: into } }) } }, 15)
const d = r2['infer']!.map((x, i) => x - r2['kernel']![i]!)
console.log('infer - kernel ms', range(summary(d), 4), 'kernel', range(summary(r2['kernel']!), 3))
void e
const r3 = rounds({ kernel: { fn: t.layer, minMs: 5 }, infer: { fn: () => c.infer(inp, { outputs: { y: 'bits' }, into: { y: into } }), minMs: 5 }, run: { fn: () => c.run(feed), minMs: 5 } }, 40)
for (const [k, v] of Object.entries(r3)) console.log('min', k, Math.min(...v).toFixed(3))
