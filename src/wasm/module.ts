/**
 * Assembles a WebAssembly module from functions: the type, import, function, export and code
 * sections of the binary format (https://webassembly.github.io/spec/core/binary/). Every module
 * sbnkit emits imports one linear memory `env.mem` (so JavaScript owns the buffer and can grow
 * it) and exports each function under its name.
 */
import type { WasmFunction } from './code.js'
import { flat, typeByte } from './code.js'
import { name, uleb, vec } from './leb128.js'
import { SHARED_MAX_PAGES } from './memory.js'

/** Concatenation without argument spreading (bodies of large kernels exceed the call-stack limit). */
const cat = (...parts: ReadonlyArray<readonly number[]>): number[] => {
  const out: number[] = []
  for (const p of parts) for (const b of p) out.push(b)
  return out
}

const section = (id: number, contents: readonly number[]): number[] => cat([id], uleb(contents.length), contents)

const signature = (f: WasmFunction): string => `${f.params.join(',')}->${f.results.join(',')}`

/** Local declarations, run-length encoded by type as the format requires. */
const localDecls = (locals: WasmFunction['locals']): number[] => {
  const groups: number[][] = []
  let i = 0
  while (i < locals.length) {
    let j = i
    while (j < locals.length && locals[j] === locals[i]) j++
    groups.push([...uleb(j - i), typeByte(locals[i]!)])
    i = j
  }
  return vec(groups)
}

/**
 * The bytes of a module importing `env.mem` (at least `minPages` 64 KiB pages; `shared`: a
 * shared memory of at most SHARED_MAX_PAGES, for threads) and exporting `functions`.
 */
export const assemble = (functions: readonly WasmFunction[], minPages = 1, shared = false): Uint8Array => {
  const sigs: string[] = []
  const types: number[][] = []
  const typeOf = functions.map((f) => {
    const s = signature(f)
    let t = sigs.indexOf(s)
    if (t < 0) {
      t = sigs.length
      sigs.push(s)
      types.push([0x60, ...vec(f.params.map((p) => [typeByte(p)])), ...vec(f.results.map((r) => [typeByte(r)]))])
    }
    return t
  })
  const limits = shared ? [0x03, ...uleb(minPages), ...uleb(SHARED_MAX_PAGES)] : [0x00, ...uleb(minPages)]
  const memoryImport = [...name('env'), ...name('mem'), 0x02, ...limits]
  const bodies = functions.map((f) => {
    const body = cat(localDecls(f.locals), flat(f.body), [0x0b])
    return cat(uleb(body.length), body)
  })
  const bytes = cat(
    [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    section(1, vec(types)),
    section(2, vec([memoryImport])),
    section(3, vec(typeOf.map((t) => uleb(t)))),
    section(7, vec(functions.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    section(10, cat(uleb(bodies.length), ...bodies)),
  )
  return Uint8Array.from(bytes)
}
