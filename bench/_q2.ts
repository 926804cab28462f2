import { mnistMlp, compiled } from './layers.js'
import { entriesOf } from '../src/interpreters/compiled/entries.js'
const mlp = compiled(mnistMlp(64), 'wasm', 'mode')
const e = entriesOf(mlp.plan, true)
console.log(e.bits.size, e.bytes.size, e.exits.size)
