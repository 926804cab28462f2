/**
 * A compiled kernel bound to a memory, the one calling convention of every back end: the
 * WebAssembly exports, the generated JavaScript and the jitless loops (`jitless.ts` and its
 * helpers `jitless-*.ts`, which import these types from here so that no two files import each other).
 */
import type { Views } from './plan.js'

/** A kernel bound to a memory: (rows, ...buffer addresses, ...scalars) → result (PackPlanes) or nothing. */
export type KernelFn = (rows: number, ...args: number[]) => number | void

/** Binds a kernel to the current views of the memory. */
export type Bind = (views: Views) => KernelFn
