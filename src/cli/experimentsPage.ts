/**
 * The hand-written results page (docs/experiments.md) keeps its generated parts between marker
 * comments, so `sbnkit experiments` rewrites them with the table and the curves it has just
 * written and leaves the prose alone:
 *
 *     <!-- generated:table -->
 *     …replaced by experiments-table.md…
 *     <!-- /generated:table -->
 *
 * A page without a given pair of markers keeps that part as it is; a page with an opening marker
 * and no closing one (or the closing before the opening) is an error, never a guess.
 */
import * as E from 'fp-ts/lib/Either.js'

// ---------------------------------------------------------------------------------------------
// Rules

const open = (name: string): string => `<!-- generated:${name} -->`
const close = (name: string): string => `<!-- /generated:${name} -->`

/**
 * `page` with the text between the `name` markers replaced by `text` (markers kept, each on its
 * own line); unchanged when the page has no such markers.
 * @example spliceGenerated('a\n<!-- generated:t -->\nold\n<!-- /generated:t -->\nb', 't', 'new\n') // right('a\n<!-- generated:t -->\nnew\n<!-- /generated:t -->\nb')
 */
export const spliceGenerated = (page: string, name: string, text: string): E.Either<string, string> => {
  const start = page.indexOf(open(name))
  const end = page.indexOf(close(name))
  if (start === -1 && end === -1) return E.right(page)
  if (start === -1 || end === -1 || end < start)
    return E.left(`the page has ${start === -1 ? 'no' : 'an'} "${open(name)}" and ${end === -1 ? 'no' : 'a'} "${close(name)}"${end !== -1 && start !== -1 ? ' before it' : ''}: expected both, in that order`)
  const body = text.endsWith('\n') ? text : `${text}\n`
  return E.right(`${page.slice(0, start + open(name).length)}\n${body}${page.slice(end)}`)
}

/**
 * The page with every generated part replaced: `parts` maps a marker name to its new text.
 * @example splicePage(page, { table: '| … |\n', curves: '![…](img/…)\n' })
 */
export const splicePage = (page: string, parts: Readonly<Record<string, string>>): E.Either<string, string> =>
  Object.entries(parts).reduce<E.Either<string, string>>((acc, [name, text]) => E.chain((p: string) => spliceGenerated(p, name, text))(acc), E.right(page))
