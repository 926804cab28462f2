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
export type { ReadOptions } from '../io/files.js'
export { readDataFile, writeDataFile } from '../data/file.js'
export type { PackageImages } from '../data/packages.js'
export { loadMnist, loadMnistSubset, loadFashionMnist, loadSplits } from '../data/loaders.js'
export type { LoadOptions, CacheStatus, Loaded, LoadedSplits } from '../data/loaders.js'
export { readCifar10, encodeCifarRecords } from '../data/cifar.js'
export type { CifarOptions, CifarImages } from '../data/cifar.js'
export { checkpointStore, readCheckpoint } from '../train/checkpoint.js'
export type { CheckpointIo, StorePosition, Restored } from '../train/checkpoint.js'
