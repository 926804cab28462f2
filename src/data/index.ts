/**
 * sbnkit data (portable: no Node built-ins, bundles for the browser): the dataset file format
 * (`sbnkit-data/1`) and its parser, an IDX decoder, image sets with their splits and
 * augmentation, model files to and from bytes, and the generators (MATH.md §7 gradeval data,
 * teacher–student). Reading and writing files, the packaged datasets (full MNIST, Fashion-MNIST),
 * CIFAR-10 from a directory, and their cache are in `sbnkit/node`.
 */
export { DataFileCodec, decodeData, encodeData } from './format.js'
export type { DataFileJson, EncodeOptions } from './format.js'
export { ArrayCodec } from './tensor.js'
export type { FlatArrayJson } from './tensor.js'
export { decodeIdx, encodeIdxBytes, idxTypes } from './idx.js'
export type { IdxArray, IdxExpectation, IdxType } from './idx.js'
export { permutation, seededKey, stream } from './prng.js'
export type { Stream } from './prng.js'
export { decodeModelBytes, encodeModelBytes } from './modelBytes.js'
export type { ModelBytes, ModelBytesOptions } from './modelBytes.js'
export { drawDataError, drawDataErrors } from './dataErrors.js'
export type { DataError } from './dataErrors.js'
export { subset, toFeedRows, toFeed } from './images.js'
export type { ImageSet, FeedOptions } from './images.js'
export { augmentImages, augmentedDataset } from './augment.js'
export type { Augmentation, AugmentedImages } from './augment.js'
export { DEFAULT_SPLIT_SEED, splitOfficial } from './split.js'
export type { Splits, MnistSplitOptions, FashionSplitOptions, OfficialSplitOptions } from './split.js'
export { gradevalData } from './gradevalData.js'
export type { GradevalOptions } from './gradevalData.js'
export { teacherStudentData, randomSignTeacher } from './teacher.js'
export type { Teacher, InputDistribution, TeacherStudentOptions, SignTeacher, SignTeacherOptions } from './teacher.js'
