/**
 * sbnkit/interpreters: the fold, the reference, exact, Monte Carlo, compiled and summary
 * interpreters, output selection and label-free prediction (`selectOutputs`, `predict`).
 */
export * from './algebra.js'
export * from './ndarray.js'
export * from './errors.js'
export * from './bind.js'
export * from './noise.js'
export * from './summary.js'
export { exact, defaultBudget } from './exact/index.js'
export type { ExactOptions, ExactResult } from './exact/index.js'
export { monteCarlo, forward, lossOutput, modeRule, sampleRule, passKey } from './montecarlo/index.js'
export type { MonteCarloOptions, MonteCarloResult, Accuracy } from './montecarlo/index.js'
export { evaluate } from './reference/forward.js'
export type { Evaluation, BinarizeRule } from './reference/forward.js'
export { backward, meanWeights } from './reference/backward.js'
export type { BinarizeBackward, Seeds } from './reference/backward.js'
export { toZeroOne, toPlusMinus, drawCodingError } from './codings.js'
export type { CodingError } from './codings.js'
export * from './compiled/index.js'
export { outputNodes, requiredInputs, selectOutputs, lossHead, PREDICTION_OUTPUT } from './outputs.js'
export { predict } from './predict.js'
export type { PredictOptions, Prediction } from './predict.js'
