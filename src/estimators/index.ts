/** sbnkit/estimators: gradient estimators as values, the gradient interpreter, and the accuracy lab. */
export { keyedSource } from './sites.js'
export type { BitSource } from './sites.js'
export { st, proxies, deterministicSt, mismatchedSt, reinforce, psa, muprop, disarm, gumbelSt, arm, concrete, meanfield, exactGradient, parseEstimator } from './estimator.js'
export type { Estimator, LatentRule } from './estimator.js'
export type { GradientOptions } from './perSite.js'
export type { GradientResult, PreparedGradient } from './result.js'
export { prepareGradient, gradient } from './gradient.js'
