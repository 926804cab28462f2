/**
 * Type assertions. `Equal<A, B>` is exact type identity (not mutual assignability: `any`, `readonly`
 * and optionality all count), and `assertType<Equal<A, B>>()` compiles only when it holds.
 */
export type Equal<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false

/** Compiles only if `T` is `true`; does nothing at run time. */
export const assertType = <T extends true>(): T => true as T
