import * as E from 'fp-ts/lib/Either.js'
import { mnistMlp, pixelFeed } from './layers.js'
import { compile } from '../src/interpreters/compiled/index.js'
import { rounds, summary, range } from './stats.js'
const net = mnistMlp()
const c1 = compile(net, { backend: 'wasm', mode: 'mode' })
const c2 = compile(net, { backend: 'wasm', mode: 'mode', threads: 2 })
if (E.isLeft(c1) || E.isLeft(c2)) throw new Error(JSON.stringify(E.isLeft(c2) ? c2.left : ''))
const px = pixelFeed(256)
const u8 = { pixels: { shape: [256, 784], data: Uint8Array.from(px['pixels']!.data) } }
const a = c1.right.infer(u8), b = c2.right.infer(u8)
if (E.isLeft(a) || E.isLeft(b)) throw new Error('run failed')
const da = a.right['output']!.data, db = b.right['output']!.data
console.log('same', da.every((v, i) => Object.is(v, db[i])), da.slice(0, 3), db.slice(0,3))
const r = rounds({ one: { fn: () => c1.right.infer(u8) }, two: { fn: () => c2.right.infer(u8) } }, 5)
for (const [k, v] of Object.entries(r)) console.log(k, range(summary(v), 2))
console.log('ratio', range(summary(r['one']!.map((x, i) => x / r['two']![i]!))))
