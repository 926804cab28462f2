/**
 * Export: a trained network's mode network as a packed 1-bit file (`sbnkit-packed/1`, read back
 * by `readPacked` / `loadPacked` in Node and in the browser) or as a standard ONNX graph.
 * See docs/export.md.
 */
export { deploy } from './deploy.js'
export type { Deployed, DeployedInput, Layer, Window } from './deploy.js'
export { drawExportError } from './exportErrors.js'
export type { ExportError } from './exportErrors.js'
export { toNetwork } from './network.js'
export { encodePacked } from './packed.js'
export type { PackedOptions } from './packed.js'
export { decodePacked, readPacked, loadPacked } from './unpack.js'
export { encodeOnnx } from './onnx.js'
export type { Folded } from './thresholds.js'
