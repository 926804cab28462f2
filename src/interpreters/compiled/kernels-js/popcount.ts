/**
 * Popcount in generated JavaScript: SWAR for one 32-bit word, and the Harley–Seal carry-save
 * adder tree (Muła, Kurz, Lemire, "Faster population counts using AVX2 instructions", 2016) for
 * a sum over many words: 16 words cost 15 carry-save adders (5 bitwise ops each) and one SWAR
 * popcount instead of 16.
 */

/** A JS expression: the popcount of the int32 expression `v` (must be a plain identifier). */
export const swar = (v: string): string =>
  `(${v} = ${v} - ((${v} >>> 1) & 0x55555555), ${v} = (${v} & 0x33333333) + ((${v} >>> 2) & 0x33333333), Math.imul((${v} + (${v} >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24)`

/**
 * Statements that add the popcounts of n words to the variable `total`, where `word(at)` is a JS
 * expression for the word whose index is the JS expression `at`. Fully unrolled, or with
 * `loopVar`, one adder tree inside a loop over blocks of 16 words. Temporaries are `let`s
 * prefixed `hs`, scoped in a block.
 */
export const harleySeal = (n: number, word: (at: string) => string, total: string, loopVar?: string): string => {
  const lines: string[] = ['{', 'let hs1 = 0, hs2 = 0, hs4 = 0, hs8 = 0, hs16 = 0, hsU = 0, hsA = 0, hsB = 0, hsC = 0, hsD = 0, hsV = 0, hsW = 0, hsT = 0, hsS = 0;']
  // csa(h, l, a, b): (h, l) = carry and sum of l + a + b; each operand is evaluated once.
  const csa = (h: string, l: string, a: string, b: string): string =>
    `hsS = ${a}; hsT = ${b}; hsU = ${l} ^ hsS; ${h} = (${l} & hsS) | (hsU & hsT); ${l} = hsU ^ hsT`
  const blocks = Math.floor(n / 16)
  // With `loopVar`, one tree inside a loop over blocks (`word(i)` must then read `loopVar` + i);
  // without, every block unrolled.
  if (loopVar !== undefined && blocks > 0) lines.push(`for (let ${loopVar} = 0; ${loopVar} < ${16 * blocks}; ${loopVar} += 16) {`)
  for (let blk = 0; blk < (loopVar === undefined ? blocks : Math.min(blocks, 1)); blk++) {
    const w = (i: number): string => word(loopVar === undefined ? String(16 * blk + i) : `${loopVar} + ${i}`)
    // The canonical tree: twos from pairs, fours from pairs of twos, eights, sixteens.
    lines.push(
      csa('hsA', 'hs1', w(0), w(1)), csa('hsB', 'hs1', w(2), w(3)), csa('hsV', 'hs2', 'hsA', 'hsB'),
      csa('hsA', 'hs1', w(4), w(5)), csa('hsB', 'hs1', w(6), w(7)), csa('hsW', 'hs2', 'hsA', 'hsB'),
      csa('hsC', 'hs4', 'hsV', 'hsW'),
      csa('hsA', 'hs1', w(8), w(9)), csa('hsB', 'hs1', w(10), w(11)), csa('hsV', 'hs2', 'hsA', 'hsB'),
      csa('hsA', 'hs1', w(12), w(13)), csa('hsB', 'hs1', w(14), w(15)), csa('hsW', 'hs2', 'hsA', 'hsB'),
      csa('hsD', 'hs4', 'hsV', 'hsW'),
      csa('hs16', 'hs8', 'hsC', 'hsD'),
      `hsT = hs16; ${total} += ${swar('hsT')} << 4`,
    )
  }
  if (loopVar !== undefined && blocks > 0) lines.push('}')
  if (blocks > 0)
    lines.push(
      `hsT = hs8; ${total} += ${swar('hsT')} << 3`,
      `hsT = hs4; ${total} += ${swar('hsT')} << 2`,
      `hsT = hs2; ${total} += ${swar('hsT')} << 1`,
      `hsT = hs1; ${total} += ${swar('hsT')}`,
    )
  for (let i = blocks * 16; i < n; i++) lines.push(`hsT = ${word(String(i))}; ${total} += ${swar('hsT')}`)
  lines.push('}')
  return lines.join(';\n')
}
