import * as E from 'fp-ts/lib/Either.js'
import { binaryFeed, denseNet, timedLayer, mnistMlp, pixelFeed, compiled } from './layers.js'
import { none } from '../src/dsl/noise.js'
import { rounds, summary, range } from './stats.js'
import { entriesOf } from '../src/interpreters/compiled/entries.js'
const net = denseNet(1024, 1024, none, none, 11, true)
const feed = binaryFeed(256, 1024, 12)
const t = timedLayer(net, feed, 'wasm', 'mode')
const x8 = Int8Array.from(feed['x']!.data)
const into = new Int32Array(256 * 32)
const inp = { x: { shape: [256, 1024], data: x8 } }
const r = t.compiled.infer(inp, { outputs: { y: 'bits' }, into: { y: into } })
if (E.isLeft(r)) throw new Error(JSON.stringify(r.left))
console.log(entriesOf(t.compiled.plan, true).bits.size, entriesOf(t.compiled.plan, true).exits.size)
const f32 = Float32Array.from(feed['x']!.data)
const o32 = new Float32Array(256*1024)
const res = rounds({ kernel: { fn: t.layer }, run: { fn: () => t.compiled.run(feed) }, inferBits: { fn: () => t.compiled.infer(inp, { outputs: { y: 'bits' }, into: { y: into } }) },
  inferF32: { fn: () => t.compiled.infer({ x: { shape: [256, 1024], data: f32 } }, { outputs: { y: 'float32' }, into: { y: o32 } }) } }, 7)
for (const [k, v] of Object.entries(res)) console.log(k, range(summary(v), 3))
const mlp = compiled(mnistMlp(), 'wasm', 'mode')
const px = pixelFeed(256)
const u8 = Uint8Array.from(px['pixels']!.data)
const cls = new Int32Array(256)
const m = rounds({ run: { fn: () => mlp.run(px) }, infer: { fn: () => mlp.infer({ pixels: { shape: [256, 784], data: u8 } }, { outputs: { output: 'classes' }, into: { output: cls } }) } , kernel: { fn: t.layer }}, 5)
for (const [k, v] of Object.entries(m)) console.log('mlp', k, range(summary(v), 3))
