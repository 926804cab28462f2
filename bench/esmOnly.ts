/**
 * Benchmarks of the training step re-run themselves under `node --import tsx/esm`, tsx's loader
 * for ES modules alone, instead of the full `tsx` that `npm run bench:train` and `npx tsx` start.
 *
 * Why: full tsx also hooks `require`, and its CommonJS hook parses each CommonJS file (fp-ts's
 * `lib/`) with es-module-lexer, a WebAssembly module whose memory grows on the main thread. Growing
 * a plain WebAssembly memory detaches its old ArrayBuffer, and the first detached ArrayBuffer of
 * an isolate invalidates V8's ArrayBufferDetaching protector for the rest of the process: from
 * then on every typed-array access of optimised JavaScript checks for a detached buffer (a float64
 * read-modify-write loop runs 1.7× slower, the MLP training step about 8 % slower). The library
 * detaches nothing itself (its WebAssembly memories are shared, `src/train/fast/wasm-gemm.ts`), and
 * a user running the compiled package (`sbnkit train`, `import 'sbnkit'`) never loads tsx; under
 * tsx/esm the ES-module hooks run on their own loader thread, in another isolate, so the step
 * timed here runs as it runs for them. Worker threads register the same ES-module loader
 * (`src/train/parallel/spawn.ts`).
 */
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const FLAG = 'SBNKIT_BENCH_ESM_ONLY'

/**
 * Unless this process already is the re-run: runs `script` (an `import.meta.url`) again with the
 * same arguments under `node --import tsx/esm`, output passed through, and exits with its status.
 */
export const rerunUnderEsmOnly = (script: string): void => {
  if (process.env[FLAG] === '1') return
  // tsx's loader resolved from here, so that the re-run works from any working directory.
  const loader = import.meta.resolve('tsx/esm')
  const r = spawnSync(process.execPath, ['--import', loader, fileURLToPath(script), ...process.argv.slice(2)], {
    stdio: 'inherit', env: { ...process.env, [FLAG]: '1' },
  })
  process.exit(r.status ?? 2)
}
