/**
 * Build and instantiate (the last two stages of the pipeline): the kernels of a plan become
 * callable functions over one linear memory, through the chosen back end's rule table.
 *
 * - `wasm`: one module with a function per specialised kernel, assembled as bytes and compiled
 *   synchronously; the memory is a `WebAssembly.Memory` the module imports.
 * - `js`: one `new Function` factory whose source holds every specialised kernel, called with the
 *   memory's typed views.
 * - `jitless`: the loops of `jitless.ts`, neither `eval` nor WebAssembly.
 *
 * Kernels a back end does not specialise run as their jitless loop on the same memory. A build
 * failure is a value carrying the generated module or source.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Kernel } from './kernels.js'
import type { Bind, KernelFn } from './jitless.js'
import { jitlessRules } from './jitless.js'
import { jsRules } from './emit-js.js'
import { wasmRules } from './emit-wasm.js'
import type { WordBits } from './layout.js'
import type { Views } from './plan.js'
import type { WasmFunction } from '../../wasm/code.js'
import { assemble } from '../../wasm/module.js'
import type { LinearMemory } from '../../wasm/memory.js'
import { arrayMemory, wasmMemory } from '../../wasm/memory.js'
import type { WasmModule } from '../../wasm/runtime.js'
import { wasmApi } from '../../wasm/runtime.js'
import { drawInvalidOption } from '../runErrors.js'
import { InternalError } from '../../dsl/dslErrors.js'

export type BackendName = 'wasm' | 'js' | 'jitless'

/** Why a network could not be compiled (each carries what is needed to see the problem). */
export type CompileError =
  | { readonly _tag: 'InvalidOption'; readonly option: string; readonly expected: string; readonly found: string }
  | { readonly _tag: 'WasmUnavailable'; readonly message: string }
  | { readonly _tag: 'ThreadsUnavailable'; readonly message: string }
  | { readonly _tag: 'WasmBuildFailed'; readonly message: string; readonly module: Uint8Array }
  | { readonly _tag: 'JsBuildFailed'; readonly message: string; readonly source: string }

export const drawCompileError = (e: CompileError): string => {
  switch (e._tag) {
    case 'InvalidOption':
      return `compile: ${drawInvalidOption(e)}`
    case 'WasmUnavailable':
      return `compile: WebAssembly is not available here (${e.message}); use backend 'js' or 'jitless'`
    case 'ThreadsUnavailable':
      return `compile: threads cannot start here (${e.message}); use threads: 1`
    case 'WasmBuildFailed':
      return `compile: the generated WebAssembly module (${e.module.length} bytes) was rejected: ${e.message}`
    case 'JsBuildFailed':
      return `compile: the generated JavaScript (${e.source.length} characters) was rejected: ${e.message}`
  }
}

/** The back end's word size (layout.ts rule 3). */
export const wordBitsOf = (b: BackendName): WordBits => (b === 'wasm' ? 64 : 32)

/** The generated program, for inspection. */
export type Artifact =
  | { readonly kind: 'wasm'; readonly module: Uint8Array }
  | { readonly kind: 'js'; readonly source: string }
  | { readonly kind: 'jitless' }

/** Instantiated kernels over a growable memory. */
export interface Machine {
  readonly views: () => Views
  /** Grows the memory to at least `bytes` (kernels are re-bound to the new views). */
  readonly ensure: (bytes: number) => void
  /** The kernels, in plan order, bound to the current memory. */
  readonly kernels: () => readonly KernelFn[]
  /** Which implementation each kernel got. */
  readonly how: readonly BackendName[]
  readonly artifact: Artifact
  /** For threads (threads/pool.ts): the module, its shared memory and the kernels' export names. */
  readonly shared?: { readonly module: object; readonly memory: object; readonly exports: readonly string[] }
}

/** Views, growth and kernels re-bound after each growth, over a managed memory. */
const machineOn = (memory: LinearMemory, bindAll: () => KernelFn[]): Pick<Machine, 'views' | 'ensure' | 'kernels'> => {
  let bound = bindAll()
  return {
    views: () => memory.views(),
    ensure: (bytes) => {
      if (memory.ensure(bytes)) bound = bindAll()
    },
    kernels: () => bound,
  }
}

const jitlessBind = (k: Kernel, wb: WordBits): Bind => (jitlessRules[k._tag] as (k: Kernel, wb: WordBits) => Bind)(k, wb)

/** Builds the kernels for a back end. */
export const build = (kernels: readonly Kernel[], backend: BackendName, shared = false): E.Either<CompileError, Machine> => {
  const wb = wordBitsOf(backend)
  if (backend === 'wasm') {
    const WA = wasmApi()
    if (WA === undefined) return E.left({ _tag: 'WasmUnavailable', message: 'no global WebAssembly' })
    const fns: WasmFunction[] = []
    const slot: number[] = []
    kernels.forEach((k, i) => {
      const rule = wasmRules[k._tag] as ((k: Kernel) => WasmFunction) | undefined
      if (rule === undefined) slot.push(-1)
      else {
        slot.push(fns.length)
        fns.push({ ...rule(k), name: `k${i}` })
      }
    })
    let bytes: Uint8Array
    let module: WasmModule
    try {
      bytes = assemble(fns, 1, shared)
    } catch (err) {
      throw new InternalError(`assembling the module failed: ${String(err)}`)
    }
    try {
      module = new WA.Module(bytes)
    } catch (err) {
      return E.left({ _tag: 'WasmBuildFailed', message: String(err), module: bytes })
    }
    const made = wasmMemory(WA, { initialPages: 1, shared, who: 'compiled' })
    if (E.isLeft(made)) return E.left({ _tag: 'WasmUnavailable', message: `no shared WebAssembly memory: ${made.left}` })
    const memory = made.right
    let exports: Readonly<Record<string, unknown>>
    try {
      exports = new WA.Instance(module, { env: { mem: memory.wasm } }).exports
    } catch (err) {
      return E.left({ _tag: 'WasmBuildFailed', message: String(err), module: bytes })
    }
    const bindAll = (): KernelFn[] =>
      kernels.map((k, i) => (slot[i]! >= 0 ? (exports[`k${i}`] as KernelFn) : jitlessBind(k, wb)(memory.views())))
    return E.right({
      ...machineOn(memory, bindAll),
      how: slot.map((s) => (s >= 0 ? 'wasm' : 'jitless')),
      artifact: { kind: 'wasm', module: bytes },
      ...(shared ? { shared: { module, memory: memory.wasm, exports: kernels.map((_, i) => `k${i}`) } } : {}),
    })
  }
  let factory: ((i32: Int32Array, u32: Uint32Array, f64: Float64Array) => readonly (KernelFn | null)[]) | undefined
  let source = ''
  const how: BackendName[] = kernels.map(() => 'jitless')
  if (backend === 'js') {
    const parts = kernels.map((k, i) => {
      const rule = jsRules[k._tag] as ((k: Kernel) => string) | undefined
      if (rule === undefined) return 'null'
      how[i] = 'js'
      return rule(k)
    })
    source = `"use strict";\nreturn [\n${parts.join(',\n')}\n];`
    try {
      factory = new Function('I32', 'U32', 'F64', source) as typeof factory
    } catch (err) {
      return E.left({ _tag: 'JsBuildFailed', message: String(err), source })
    }
  }
  const memory = arrayMemory(undefined, 'compiled')
  const bindAll = (): KernelFn[] => {
    const views = memory.views()
    const made = factory?.(views.i32, views.u32, views.f64)
    return kernels.map((k, i) => made?.[i] ?? jitlessBind(k, wb)(views))
  }
  return E.right({
    ...machineOn(memory, bindAll),
    how,
    artifact: backend === 'js' ? { kind: 'js', source } : { kind: 'jitless' },
  })
}
