/** The sbnkit DSL: the IR, constructors, composites, shape rules, typecheck, errors. */
export * from './node.js'
export * from './noise.js'
export * from './errors.js'
export * from './shape.js'
export * from './primitives.js'
export * from './composites.js'
export * from './typecheck.js'
