/**
 * sbnkit/node: everything that needs Node.js (files, the packaged datasets and their cache,
 * checkpoints). Every other entry point is portable and bundles for the browser; this one is the
 * edge where sbnkit touches the file system.
 *
 * - model files: `readModelFile`, `writeModelFile` (docs/model-format.md; the portable twins
 *   from bytes are `decodeModelBytes` / `encodeModelBytes` in `sbnkit/data`);
 * - dataset files: `readDataFile`, `writeDataFile` (docs/data-format.md);
 * - packaged datasets: `loadSplits`, `loadMnist`, `loadFashionMnist`, the binary cache
 *   (docs/datasets.md);
 * - training checkpoints: `checkpointStore`, `readCheckpoint` (docs/training.md).
 *
 * @example
 * import { readModelFile } from 'sbnkit/node'
 * const net = await readModelFile('model.json') // Either<ModelError[], Checked<Network>>
 */
export { readModelFile, writeModelFile } from '../io/files.js'
export { readDataFile, writeDataFile } from '../data/file.js'
export { fashionMnistPackage, findPackage, mnistPackage, readPackage } from '../data/packages.js'
export type { FoundPackage, PackageImages, PackageSpec } from '../data/packages.js'
export { crc32 } from '../io/crc32.js'
export { CACHE_MAGIC, CACHE_VERSION, cacheFileName, decodeCache, encodeCache, readCache, writeCache } from '../data/cache.js'
export type { CacheRead } from '../data/cache.js'
export * from '../data/loaders.js'
export { md5Hex, mnistDataPackage, readIdxPackage } from '../data/idxPackage.js'
export type { IdxFileSpec, IdxPackageSpec } from '../data/idxPackage.js'
export * from '../data/cifar.js'
export * from '../train/checkpoint.js'
export type { ReadOptions } from '../io/files.js'
