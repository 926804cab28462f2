/**
 * The slice of the WebAssembly JavaScript API sbnkit uses, typed locally: the project's `lib`
 * is ES2022 without the DOM, which is where TypeScript declares `WebAssembly`. Absent (undefined)
 * in runtimes without WebAssembly.
 */

export interface WasmMemory {
  readonly buffer: ArrayBufferLike
  grow(pages: number): number
}
export type WasmModule = object
export interface WasmInstance {
  readonly exports: Readonly<Record<string, unknown>>
}

export interface WasmApi {
  readonly Module: new (bytes: Uint8Array) => WasmModule
  readonly Instance: new (module: WasmModule, imports: Readonly<Record<string, Readonly<Record<string, unknown>>>>) => WasmInstance
  readonly Memory: new (descriptor: { readonly initial: number; readonly maximum?: number; readonly shared?: boolean }) => WasmMemory
  readonly validate: (bytes: Uint8Array) => boolean
}

/** The host's WebAssembly API, if it has one. */
export const wasmApi = (): WasmApi | undefined => (globalThis as { readonly WebAssembly?: WasmApi }).WebAssembly
