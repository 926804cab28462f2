/**
 * "Did you mean …?": the closest known word to a mistyped one (a command, a flag, a dataset),
 * by edit distance with transpositions (optimal string alignment), or nothing when every known
 * word is too far away to be a typo.
 */

/** The optimal-string-alignment distance: insertions, deletions, substitutions, swaps of neighbours. */
export const editDistance = (a: string, b: string): number => {
  const m = a.length
  const n = b.length
  // Three rows of the dynamic programme: two back (for a swap), one back, and the current one.
  let before = new Array<number>(n + 1).fill(0)
  let prev = Array.from({ length: n + 1 }, (_, j) => j)
  for (let i = 1; i <= m; i++) {
    const cur = new Array<number>(n + 1).fill(0)
    cur[0] = i
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, before[j - 2]! + 1)
      cur[j] = d
    }
    before = prev
    prev = cur
  }
  return prev[n]!
}

/**
 * The known word closest to `word`, if it is close enough to be a typo: at most a third of its
 * length (at least 1, at most 3 edits), or a known word that starts with it (`--sample` →
 * `--samples`). Ties go to the first known word.
 */
export const closest = (word: string, known: Iterable<string>): string | undefined => {
  const limit = Math.min(3, Math.max(1, Math.floor(word.length / 3)))
  let best: string | undefined
  let bestDistance = Infinity
  for (const k of known) {
    const d = k.startsWith(word) && word.length >= 3 ? Math.min(1, editDistance(word, k)) : editDistance(word, k)
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return bestDistance <= limit ? best : undefined
}

/** `; did you mean "x"?` or the empty string. */
export const didYouMean = (word: string, known: Iterable<string>): string => {
  const c = closest(word, known)
  return c === undefined ? '' : `; did you mean "${c}"?`
}
