/**
 * sbnkit/train (portable: bundles for the browser): optimizers and weight recipes, routing,
 * schedules, the training loop with its evaluation, presets and logs, and the fast training
 * kernels (`trainingKernels()`: WebAssembly SIMD where the host has it; `train()` uses them by
 * default, `referenceKernelChoice` asks for the float64 reference loops). Checkpoints in a directory are in `sbnkit/node`.
 */
export * from './optimizers.js'
export { bop } from './optim/bop.js'
export type { BopOptions } from './optim/bop.js'
export * from './recipes.js'
export * from './routing.js'
export * from './schedules.js'
export * from './config.js'
export * from './evaluate.js'
export * from './loop.js'
export * from './modes.js'
export * from './presets.js'
export * from './log.js'
export * from './sbnTeacher.js'
export * from './calibrate.js'
export * from './fast/index.js'
export * from './anneal.js'
export * from './refit.js'
export * from './standard.js'
