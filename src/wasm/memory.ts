/**
 * The one memory manager of the WebAssembly back end, for inference (the compiled interpreter's
 * machine and buffer planner) and training (the products' and the sampler's scratch memory):
 *
 * - **growth** in whole 64 KiB pages, never shrinking, up to what the kernels can address
 *   (i32 byte addresses: 2 GiB), with a clear `RangeError` beyond;
 * - **views re-read after growth**: growing a `WebAssembly.Memory` detaches its old buffer (a
 *   shared one keeps it but fixes its length), so typed views are taken from `views()` after
 *   every `ensure`, never kept across one;
 * - **shared or not**: a shared memory (declared maximum `SHARED_MAX_PAGES`) is what worker
 *   threads instantiate the same module on (src/threads); a plain one grows without a maximum;
 * - **bump allocation** (`arena`): consecutive, aligned regions of one call's scratch space.
 *
 * The same interface wraps a plain `ArrayBuffer` (grown by copying) for the compiled
 * interpreter's JavaScript and jitless back ends, so the machine has one code path.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { WasmApi, WasmMemory } from './runtime.js'

/** Bytes of a WebAssembly page. */
export const PAGE = 65536

/** Pages of a shared memory's declared maximum (2 GiB, what the kernels can address). */
export const SHARED_MAX_PAGES = 32768

/** The highest byte count a kernel can address with an i32 address. */
export const MAX_BYTES = 2 ** 31

/** Typed views of the whole memory, all over one buffer. */
export interface MemoryViews {
  readonly buffer: ArrayBufferLike
  readonly u8: Uint8Array
  readonly i8: Int8Array
  readonly f32: Float32Array
  readonly i32: Int32Array
  readonly u32: Uint32Array
  readonly f64: Float64Array
}

export const viewsOf = (buffer: ArrayBufferLike): MemoryViews => ({
  buffer,
  u8: new Uint8Array(buffer),
  i8: new Int8Array(buffer),
  f32: new Float32Array(buffer),
  i32: new Int32Array(buffer),
  u32: new Uint32Array(buffer),
  f64: new Float64Array(buffer),
})

/** A linear memory that grows on demand, with views that follow it. */
export interface LinearMemory {
  /** The `WebAssembly.Memory` modules import as `env.mem` (absent for a plain ArrayBuffer). */
  readonly wasm: WasmMemory | undefined
  readonly shared: boolean
  /**
   * Grows the memory to at least `bytes`; true if its buffer changed (views taken before are
   * then stale: take them again from `views()`). A `RangeError` naming `who` beyond 2 GiB.
   */
  readonly ensure: (bytes: number) => boolean
  /** Views of the memory as it is now (new objects only after a growth). */
  readonly views: () => MemoryViews
}

/** A LinearMemory over a `WebAssembly.Memory`. */
export type WasmLinearMemory = LinearMemory & { readonly wasm: WasmMemory }

const tooLarge = (who: string, bytes: number): RangeError =>
  new RangeError(`${who}: ${bytes} bytes exceed the 2 GiB a WebAssembly kernel can address`)

/**
 * Grows `memory` to at least `bytes` in whole pages: true if it grew. The one place where a
 * WebAssembly memory grows (`ensure` of every LinearMemory, and callers that hold only the memory).
 */
export const growTo = (memory: WasmMemory, bytes: number, who = 'wasm memory'): boolean => {
  const need = Math.ceil(bytes / PAGE) - memory.buffer.byteLength / PAGE
  if (need <= 0) return false
  if (bytes > MAX_BYTES) throw tooLarge(who, bytes)
  memory.grow(need)
  return true
}

/** Pages a WebAssembly memory starts with, and whether it is shared (for worker threads). */
export interface WasmMemoryOptions {
  readonly initialPages: number
  readonly shared: boolean
  /** Named in growth errors (`compiled`, `training kernels`). */
  readonly who: string
}

/**
 * A `WebAssembly.Memory` under the manager, or why the host cannot make one (a shared memory
 * needs cross-origin isolation in browsers and is absent from some runtimes).
 */
export const wasmMemory = (WA: WasmApi, o: WasmMemoryOptions): E.Either<string, WasmLinearMemory> => {
  let memory: WasmMemory
  try {
    memory = o.shared
      ? new WA.Memory({ initial: o.initialPages, maximum: SHARED_MAX_PAGES, shared: true })
      : new WA.Memory({ initial: o.initialPages })
  } catch (err) {
    return E.left(String(err))
  }
  let views = viewsOf(memory.buffer)
  // Re-read on every call: another user of the memory (a sampler holding only the
  // WebAssembly.Memory) may have grown it. `memory.buffer` is one object until the next growth.
  const current = (): MemoryViews => (views.buffer === memory.buffer ? views : (views = viewsOf(memory.buffer)))
  return E.right({
    wasm: memory,
    shared: o.shared,
    ensure: (bytes) => {
      const before = current()
      growTo(memory, bytes, o.who)
      return current() !== before
    },
    views: current,
  })
}

/**
 * A plain ArrayBuffer under the manager (the JavaScript and jitless back ends): grown by copying
 * into a buffer 1.25 times the request, rounded to pages, so repeated small growths stay cheap.
 */
export const arrayMemory = (initialBytes = PAGE, who = 'memory'): LinearMemory => {
  let views = viewsOf(new ArrayBuffer(initialBytes))
  return {
    wasm: undefined,
    shared: false,
    ensure: (bytes) => {
      if (bytes <= views.buffer.byteLength) return false
      if (bytes > MAX_BYTES) throw tooLarge(who, bytes)
      const next = new ArrayBuffer(Math.min(MAX_BYTES, Math.ceil((bytes * 1.25) / PAGE) * PAGE))
      new Uint8Array(next).set(views.u8)
      views = viewsOf(next)
      return true
    },
    views: () => views,
  }
}

// ---------------------------------------------------------------------------------------------
// Bump allocation

export const alignUp = (bytes: number, align: number): number => Math.ceil(bytes / align) * align

/** Consecutive aligned regions from a start address; `end` is where the last one stops. */
export interface Arena {
  /** The byte address of a fresh region of `bytes` bytes, aligned to `align` (a power of 2). */
  readonly alloc: (bytes: number, align?: number) => number
  /** The first byte past every region so far. */
  readonly end: () => number
}

/**
 * A bump allocator from byte address `start` (default alignment 16, a v128). Regions are never
 * freed: a call lays out its scratch space, `ensure`s `end()`, and starts a new arena next time.
 */
export const arena = (start = 0, defaultAlign = 16): Arena => {
  let top = start
  return {
    alloc: (bytes, align = defaultAlign) => {
      const at = alignUp(top, align)
      top = at + bytes
      return at
    },
    end: () => top,
  }
}
