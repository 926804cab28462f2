/**
 * sbnkit/train: optimizers and weight recipes, routing, schedules, the training loop with its
 * evaluation, presets, checkpoints and logs. Fast training kernels are in `./kernels/index.js`
 * (WebAssembly; imported only by those who ask for them).
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
export * from './checkpoint.js'
export * from './teacher.js'
export * from './calibrate.js'
