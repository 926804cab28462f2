/**
 * `npx tsx bench/browserThreads.ts [--threads 1,2] [--batch 256] [--rounds 9] [--runs 5] [--json]`:
 * `run()` of the MLP 784→1024→1024→10 (mode network, 8-bit pixels) inside a Web Worker of a
 * cross-origin isolated page in headless Chromium (Debian's /usr/bin/chromium, or $CHROMIUM),
 * compiled with `compileAsync` for each thread count, timed in interleaved rounds (round r times
 * `--runs` runs of every thread count in turn). Prints ms per run, median (min–max), and each
 * count's speed-up over the first (ratio of medians); `--json`: `{ batch, rounds, rows: [{
 * threads, ms: { median, min, max }, speedup }], loadAverage }`. Progress on stderr.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { parseArgs } from 'node:util'
import { chromium } from 'playwright-core'
import { bundlePage, serveDemo } from '../demo/build.js'
import { median } from './train.js'
import type { BenchReply, BenchRequest } from './browser/worker.js'

const fail = (why: string): never => {
  process.stderr.write(`bench/browserThreads: ${why}\n`)
  process.exit(2)
}

const { values } = parseArgs({
  options: {
    threads: { type: 'string', default: '1,2' }, batch: { type: 'string', default: '256' },
    rounds: { type: 'string', default: '9' }, runs: { type: 'string', default: '5' }, json: { type: 'boolean', default: false },
  },
})
const count = (name: string, text: string, min: number): number => {
  const n = Number(text)
  return Number.isSafeInteger(n) && n >= min ? n : fail(`--${name}: expected an integer ≥ ${min}, found ${JSON.stringify(text)}`)
}
const request: BenchRequest = {
  threads: values.threads.split(',').map((t) => count('threads', t, 1)),
  batch: count('batch', values.batch, 1),
  rounds: count('rounds', values.rounds, 1),
  runs: count('runs', values.runs, 1),
}

const root = await mkdtemp(join(os.tmpdir(), 'sbnkit-bench-browser-'))
const here = fileURLToPath(new URL('.', import.meta.url))
await bundlePage({ worker: join(here, 'browser/worker.ts') }, root)
await writeFile(join(root, 'index.html'), '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>sbnkit bench</title>\n')
const server = await serveDemo(0, root)
const browser = await chromium.launch({ executablePath: process.env['CHROMIUM'] ?? '/usr/bin/chromium', headless: true, args: ['--no-sandbox', '--disable-gpu'] })
let reply: BenchReply
try {
  const page = await browser.newPage()
  await page.exposeFunction('benchProgress', (line: string) => void process.stderr.write(`bench/browserThreads: ${line}\n`))
  await page.goto(`http://127.0.0.1:${server.port}/`)
  reply = (await page.evaluate(
    (r) =>
      new Promise<BenchReply>((resolve) => {
        const g = globalThis as unknown as { Worker: new (url: string, o: object) => { onmessage: (e: { data: unknown }) => void; postMessage(m: unknown): void }; benchProgress: (l: string) => void }
        const w = new g.Worker('worker.js', { type: 'module' })
        w.onmessage = (e) => {
          const d = e.data as { progress?: string }
          if (d.progress !== undefined) g.benchProgress(d.progress)
          else resolve(e.data as BenchReply)
        }
        w.postMessage(r)
      }),
    request,
  )) as BenchReply
} finally {
  await browser.close()
  server.close()
  await rm(root, { recursive: true, force: true })
}
if ('error' in reply) fail(reply.error)
const rows = request.threads.map((threads, t) => {
  const ms = (reply as { ms: number[][] }).ms[t]!
  return { threads, ms: { median: median(ms), min: Math.min(...ms), max: Math.max(...ms) } }
})
const out = { batch: request.batch, rounds: request.rounds, rows: rows.map((r) => ({ ...r, speedup: rows[0]!.ms.median / r.ms.median })), loadAverage: os.loadavg() }
if (values.json) process.stdout.write(`${JSON.stringify(out)}\n`)
else {
  process.stdout.write(`run() of the MLP 784→1024→1024→10 at batch ${out.batch}, in a Web Worker of Chromium (${out.rounds} interleaved rounds)\n`)
  for (const r of out.rows) process.stdout.write(`  ${r.threads} thread${r.threads > 1 ? 's' : ' '}: ${r.ms.median.toFixed(2)} ms (${r.ms.min.toFixed(2)}–${r.ms.max.toFixed(2)}), ×${r.speedup.toFixed(2)}\n`)
  process.stdout.write(`  load average ${out.loadAverage.map((l) => l.toFixed(2)).join(' ')}\n`)
}
