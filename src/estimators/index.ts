/** sbnkit/estimators: gradient estimators as values, the gradient interpreter, and the accuracy lab. */
export * from './estimator.js'
export * from './gradient.js'
export type { BitSource } from './sites.js'
export { keyedSource } from './sites.js'
