/**
 * sbnkit: stochastic binary networks and their gradient estimators.
 * The subpath exports (`sbnkit/dsl`, `sbnkit/interpreters`, `sbnkit/estimators`, `sbnkit/data`,
 * `sbnkit/train`, and the Node-only `sbnkit/node`) hold the full API; the root re-exports the DSL
 * and the most used entry points. Every entry but `sbnkit/node` runs in the browser too.
 */
export * from './dsl/index.js'
export { exact, monteCarlo, forward, summary, renderSummary, compile, compileAsync, drawCompileError, predict, selectOutputs } from './interpreters/index.js'
export type { Feed, NDArray, RunError, Prediction, PredictOptions, CompileOptions, Compiled } from './interpreters/index.js'
export { drawRunError } from './interpreters/index.js'
export * from './estimators/index.js'
