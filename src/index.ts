/**
 * sbnkit: stochastic binary networks and their gradient estimators.
 * The subpath exports (`sbnkit/dsl`, `sbnkit/interpreters`, `sbnkit/estimators`, `sbnkit/data`)
 * hold the full API; the root re-exports the DSL and the most used entry points.
 */
export * from './dsl/index.js'
export { exact, monteCarlo, forward, summary, renderSummary } from './interpreters/index.js'
export type { Feed, NDArray, RunError } from './interpreters/index.js'
export { drawRunError } from './interpreters/index.js'
export * from './estimators/index.js'
