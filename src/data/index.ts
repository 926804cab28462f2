/**
 * sbnkit data (portable: no Node built-ins, bundles for the browser): the dataset file format
 * (`sbnkit-data/1`) and its parser, an IDX decoder, image sets with their splits and
 * augmentation, model files to and from bytes, and the generators (MATH.md §7 gradeval data,
 * teacher–student). Reading and writing files, the packaged datasets (full MNIST, Fashion-MNIST),
 * CIFAR-10 from a directory, and their cache are in `sbnkit/node`.
 */
export * from './dataErrors.js'
export { DATA_FORMAT, DataFileCodec, decodeData, encodeData } from './format.js'
export type { DataFileJson, EncodeOptions } from './format.js'
export { parseDataText, parseJson } from './parse.js'
export { ArrayCodec, MAX_ERRORS_PER_ARRAY } from './tensor.js'
export type { FlatArrayJson } from './tensor.js'
export * from './images.js'
export { decodeIdx, encodeIdxBytes, idxTypes } from './idx.js'
export type { IdxArray, IdxExpectation, IdxType } from './idx.js'
export * from './augment.js'
export * from './split.js'
export * from './gradevalData.js'
export * from './teacher.js'
export { permutation, seededKey, stream } from './prng.js'
export type { Stream } from './prng.js'
export { decodeModelBytes, encodeModelBytes } from './modelBytes.js'
export type { ModelBytes, ModelBytesOptions } from './modelBytes.js'
