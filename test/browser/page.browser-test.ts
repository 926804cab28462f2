/**
 * The live page (demo/) in a real headless Chromium (Debian's /usr/bin/chromium driven by
 * playwright-core; no browser download): it loads, trains, and shows its numbers; and a packed
 * export loads and predicts in the page bit for bit as in Node. Run by `npm run test:browser`,
 * apart from `npm test` (it needs Chromium; .ci/run installs it).
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as E from 'fp-ts/lib/Either.js'
import type { BrowserContext, Page } from 'playwright-core'
import { chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDemo, serveDemo } from '../../demo/build.js'
import { deploy, drawExportError, encodePacked, loadPacked } from '../../src/export/index.js'
import { trainedPreset } from '../export/helpers.js'

/** Where Chromium is (CHROMIUM overrides, e.g. for a local install elsewhere). */
const executablePath = process.env['CHROMIUM'] ?? '/usr/bin/chromium'

let context: BrowserContext
let page: Page
let server: { port: number; close: () => void }
let profile = ''
const pageErrors: string[] = []

beforeAll(async () => {
  await buildDemo()
  server = await serveDemo(0)
  profile = await mkdtemp(join(tmpdir(), 'sbnkit-chromium-'))
  context = await chromium.launchPersistentContext(profile, {
    executablePath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  })
  page = await context.newPage()
  page.on('pageerror', (e) => pageErrors.push(e.message))
  page.on('console', (m) => (m.type() === 'error' ? pageErrors.push(m.text()) : undefined))
  await page.goto(`http://127.0.0.1:${server.port}/`)
})

afterAll(async () => {
  await context?.close()
  server?.close()
  if (profile !== '') await rm(profile, { recursive: true, force: true })
})

const text = async (id: string): Promise<string> => (await page.textContent(`#${id}`)) ?? ''

describe('the live page', () => {
  it('trains in its worker and shows loss, accuracies, regions and gradient cosines', async () => {
    // Three epochs reported (epoch 1 also measures the cosines).
    await page.waitForFunction(String.raw`/^([3-9]|\d\d+) \//.test(document.getElementById('epoch')?.textContent ?? '')`, undefined, { timeout: 240_000 })
    expect(pageErrors).toEqual([])
    // demo/build.ts's server isolates the page (COOP, COEP), so its worker could use threads.
    expect(await page.evaluate('crossOriginIsolated')).toBe(true)
    expect(await text('status')).toBe('training…')
    expect(Number(await text('loss'))).toBeGreaterThan(0)
    for (const id of ['acc-mode', 'acc-ensemble']) expect(await text(id)).toMatch(/^\d+\.\d %$/)
    const cosines = await page.$$eval('#cosines td[id^="cos-"]', (tds) => tds.map((td) => [td.id, Number(td.textContent)] as const))
    expect(cosines.map(([id]) => id)).toEqual(['cos-layer1', 'cos-layer2', 'cos-layer3', 'cos-head'])
    for (const [, c] of cosines) expect(Math.abs(c)).toBeLessThanOrEqual(1)
    expect(await page.$$eval('#curves svg polyline, #curves svg path', (ps) => ps.length)).toBeGreaterThan(0)
    // Both region maps are drawn (not blank).
    const colours = (await page.evaluate(`[...document.querySelectorAll('canvas')].map((c) => {
      const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data
      return new Set(Array.from({ length: 64 }, (_, i) => d[(i * 997 * 4) % d.length])).size
    })`)) as number[]
    for (const n of colours) expect(n).toBeGreaterThan(1)
  })
})

describe('packed models in the page', () => {
  const cases = [
    { name: 'mlp', ...trainedPreset({ kind: 'mlp', hidden: [64, 32] }, [784], 7, 21) },
    { name: 'conv', ...trainedPreset({ kind: 'conv', channels: [4, 8] }, [1, 28, 28], 3, 22) },
  ]
  for (const c of cases) {
    it(`${c.name}: the page's outputs equal Node's, bit for bit, on every back end`, async () => {
      const d = deploy(c.net)
      if (E.isLeft(d)) throw new Error(drawExportError(d.left))
      const bytes = encodePacked(d.right)
      const x = c.feed['x']!
      for (const backend of ['wasm', 'js', 'jitless'] as const) {
        const node = loadPacked(bytes, backend)
        if (E.isLeft(node)) throw new Error('load')
        const r = node.right.run({ x })
        if (E.isLeft(r)) throw new Error('run')
        const want = Array.from(new Uint8Array(Float64Array.from(r.right['output']!.data).buffer))
        const got = await page.evaluate(([b, xs, shape, be]) => {
          const s = (globalThis as unknown as { sbnkit: { predictPacked: (b: number[], x: number[], s: number[], be: string) => { output?: number[]; error?: string } } }).sbnkit
          const out = s.predictPacked(b, xs, shape, be)
          return out.output === undefined ? out.error : Array.from(new Uint8Array(Float64Array.from(out.output).buffer))
        }, [Array.from(bytes), Array.from(x.data), [...x.shape], backend] as [number[], number[], number[], string])
        expect(got).toEqual(want)
      }
    })
  }

  it('a damaged file gives the same message in the page as in Node', async () => {
    const d = deploy(cases[0]!.net)
    if (E.isLeft(d)) throw new Error('deploy')
    const bytes = encodePacked(d.right).slice(0, 100)
    const got = await page.evaluate((b) => (globalThis as unknown as { sbnkit: { predictPacked: (b: number[], x: number[], s: number[]) => { error?: string } } }).sbnkit.predictPacked(b, [0], [1, 1]).error, Array.from(bytes))
    const node = loadPacked(bytes)
    expect(E.isLeft(node)).toBe(true)
    expect(got).toBe(E.isLeft(node) && node.left._tag === 'BadPackedFile' ? drawExportError(node.left) : 'a BadPackedFile')
  })
})
