/**
 * sbnkit data: the dataset file format (`sbnkit-data/1`), an IDX reader, the image datasets (full
 * MNIST, Fashion-MNIST, CIFAR-10 from a directory) with splits and a binary cache, and the generators (MATH.md §7 gradeval data,
 * teacher–student). Importing this module reads nothing: datasets load only when asked.
 */
export * from './errors.js'
export { DATA_FORMAT, DataFileCodec, decodeData, encodeData } from './format.js'
export type { DataFileJson, EncodeOptions } from './format.js'
export { parseDataText, parseJson, readDataFile, writeDataFile } from './file.js'
export { ArrayCodec, MAX_ERRORS_PER_ARRAY } from './tensor.js'
export type { FlatArrayJson } from './tensor.js'
export * from './images.js'
export { decodeIdx, encodeIdxBytes, idxTypes } from './idx.js'
export type { IdxArray, IdxExpectation, IdxType } from './idx.js'
export { md5Hex, mnistDataPackage, readIdxPackage } from './idxPackage.js'
export type { IdxFileSpec, IdxPackageSpec } from './idxPackage.js'
export * from './cifar.js'
export * from './augment.js'
export { fashionMnistPackage, findPackage, mnistPackage, readPackage } from './packages.js'
export type { FoundPackage, PackageImages, PackageSpec } from './packages.js'
export { CACHE_MAGIC, CACHE_VERSION, cacheFileName, crc32, decodeCache, encodeCache, readCache, writeCache } from './cache.js'
export type { CacheRead } from './cache.js'
export * from './split.js'
export * from './loaders.js'
export * from './gradeval.js'
export * from './teacher.js'
export { permutation, seededKey, stream } from './prng.js'
export type { Stream } from './prng.js'
