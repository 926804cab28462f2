/**
 * sbnkit/interpreters: the semantic core (the forward and reverse rules, the sampling rule), the
 * exact, Monte Carlo, compiled and summary interpreters, output selection and label-free
 * prediction (`selectOutputs`, `predict`). The fold and the noise families' functions belong to
 * the DSL (`sbnkit/dsl`) and are re-exported here for the interpreters' users.
 * See docs/architecture.md for the layers.
 */
export * from '../dsl/fold.js'
export * from './ndarray.js'
export { drawRunError, drawInvalidOption } from './runErrors.js'
export type { RunError } from './runErrors.js'
export { bind } from './bind.js'
export type { Bound } from './bind.js'
export { noiseFns, stFactor } from '../dsl/distributions.js'
export type { NoiseFns } from '../dsl/distributions.js'
export { sign, threshold, signFromBits, signsInto } from './reference/sampling.js'
export * from './summary.js'
export { exact, defaultBudget } from './exact/index.js'
export type { ExactOptions, ExactResult } from './exact/index.js'
export { monteCarlo, forward } from './montecarlo/index.js'
export { modeRule, sampleRule, passKey } from './reference/sampling.js'
export { lossOutput } from './outputs.js'
export type { MonteCarloOptions, MonteCarloResult, Accuracy } from './montecarlo/index.js'
export { evaluate } from './reference/forward.js'
export type { Evaluation, BinarizeRule } from './reference/forward.js'
export { forwardRules } from './reference/rules.js'
export type { ForwardRule, RuleEnv, Extras, Out, BatchNormStats } from './reference/rules.js'
export { backward, meanWeights } from './reference/backward.js'
export type { BinarizeBackward, Seeds } from './reference/backward.js'
export { toZeroOne, toPlusMinus, drawCodingError } from '../dsl/codings.js'
export type { CodingError } from '../dsl/codings.js'
export * from './compiled/index.js'
// The compiled interpreter's benchmark lives with the applications (src/bench); re-exported here as before.
export { benchNetwork } from '../bench/benchNetwork.js'
export type { BenchOptions, BenchReport, Spread } from '../bench/benchNetwork.js'
export { outputNodes, requiredInputs, selectOutputs, lossHead, PREDICTION_OUTPUT } from './outputs.js'
export { predict } from './prediction.js'
export type { PredictOptions, Prediction } from './prediction.js'
// Types that appear in the signatures above (so the API reference can link them).
export type { Kernels } from './reference/ops.js'
export type { ParamGrads } from './reference/grads.js'
export { zeroGrads, addParamGrads } from './reference/grads.js'
export type { Executor } from './compiled/execute.js'
export type * from './compiled/kernels.js'
export type { InputSlot, OutputSlot, StepEnv, Views } from './compiled/plan.js'
export type { Budget } from './budget.js'
