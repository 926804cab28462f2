/**
 * The results page's generated parts (src/cli/experimentsPage.ts): rewritten between their
 * markers, the prose around them untouched, malformed markers an error.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import * as fc from 'fast-check'
import * as E from 'fp-ts/lib/Either.js'
import { describe, expect, it } from 'vitest'
import { experiments } from '../../src/cli/experiments.js'
import { spliceGenerated, splicePage } from '../../src/cli/experimentsPage.js'
import { memoryIo } from '../../src/cli/io.js'

const prose = fc.string({ maxLength: 40 }).filter((s) => !s.includes('<!--'))
const page = (before: string, inside: string, after: string): string =>
  `${before}\n<!-- generated:t -->\n${inside}\n<!-- /generated:t -->\n${after}`

describe('the results page: generated parts', () => {
  it('law: the text outside the markers is kept, the text inside is the new one', () => {
    fc.assert(fc.property(prose, prose, prose, prose, (before, inside, after, text) => {
      const r = spliceGenerated(page(before, inside, after), 't', `${text}\n`)
      expect(r).toEqual(E.right(page(before, text, after)))
    }))
  })

  it('law: splicing is idempotent (a second regeneration changes nothing)', () => {
    fc.assert(fc.property(prose, prose, prose, prose, (before, inside, after, text) => {
      const once = spliceGenerated(page(before, inside, after), 't', text)
      expect(E.chain((p: string) => spliceGenerated(p, 't', text))(once)).toEqual(once)
    }))
  })

  it('leaves a page without the markers as it is, and refuses half a pair or a reversed pair', () => {
    expect(spliceGenerated('no markers', 't', 'x')).toEqual(E.right('no markers'))
    expect(spliceGenerated('a <!-- generated:t --> b', 't', 'x')).toEqual(E.left('the page has an "<!-- generated:t -->" and no "<!-- /generated:t -->": expected both, in that order'))
    expect(spliceGenerated('<!-- /generated:t --> <!-- generated:t -->', 't', 'x')).toEqual(E.left('the page has an "<!-- generated:t -->" and a "<!-- /generated:t -->" before it: expected both, in that order'))
    expect(E.isLeft(splicePage(page('a', 'b', 'c').replace('<!-- /generated:t -->', ''), { t: 'x' }))).toBe(true)
  })

  it('npm run experiments rewrites the table and the curves inside docs/experiments.md, and nothing else', async () => {
    const out = await mkdtemp(join(tmpdir(), 'sbnkit-page-'))
    const before = '# Experiments\n\nProse.\n\n<!-- generated:table -->\nold table\n<!-- /generated:table -->\n\nMore prose.\n\n<!-- generated:curves -->\nold\n<!-- /generated:curves -->\n'
    await writeFile(join(out, 'experiments.md'), before)
    expect(await experiments(['--rows', 'none', '--seeds', 'none', '--out', out], memoryIo())).toBe(0)
    const after = await readFile(join(out, 'experiments.md'), 'utf8')
    const table = await readFile(join(out, 'experiments-table.md'), 'utf8')
    expect(after).toBe(`# Experiments\n\nProse.\n\n<!-- generated:table -->\n${table}<!-- /generated:table -->\n\nMore prose.\n\n<!-- generated:curves -->\n\n<!-- /generated:curves -->\n`)
    await rm(out, { recursive: true, force: true })
  })

  it('says the results were not saved when the page\'s markers are broken (exit 1)', async () => {
    const out = await mkdtemp(join(tmpdir(), 'sbnkit-page-'))
    await writeFile(join(out, 'experiments.md'), 'x\n<!-- generated:table -->\nold\n')
    const io = memoryIo()
    expect(await experiments(['--rows', 'none', '--seeds', 'none', '--out', out], io)).toBe(1)
    expect(io.stderr()).toContain('experiments: the results were not saved: ')
    expect(io.stderr()).toContain('experiments.md: the page has an "<!-- generated:table -->" and no "<!-- /generated:table -->"')
    await rm(out, { recursive: true, force: true })
  })
})
