import { describe, expect, it } from 'vitest'
import { splitChooser } from '../../src/threads/choose.js'

/** A clock that each job advances by the time the test gives that way. */
const harness = (cost: (split: boolean, call: number) => number) => {
  let t = 0
  const choose = splitChooser(() => t)
  const ways: boolean[] = []
  const call = (kind = 'k'): boolean => choose(kind, (split) => {
    t += cost(split, ways.length)
    ways.push(split)
    return split
  })
  return { call, ways }
}

describe('splitChooser', () => {
  it('law: explores both ways three times each, splitting first, then runs the faster way', () => {
    const h = harness((split) => (split ? 1 : 2))
    for (let i = 0; i < 13; i++) h.call()
    expect(h.ways.slice(0, 6)).toEqual([true, false, true, false, true, false])
    // The next seven calls: split wins; the eighth call after exploring retries the loser.
    expect(h.ways.slice(6, 13)).toEqual([true, true, true, true, true, true, true])
  })

  it('law: the losing way is retried at doubling intervals (8, 16, 32, …) while it keeps losing', () => {
    const h = harness((split) => (split ? 5 : 1))
    for (let i = 0; i < 6 + 8 + 16 + 32; i++) h.call()
    const retries = h.ways.map((w, i) => (w && i >= 6 ? i : -1)).filter((i) => i >= 0)
    expect(retries).toEqual([6 + 7, 6 + 8 + 15, 6 + 8 + 16 + 31])
  })

  it('law: follows the load: when splitting becomes faster, the choice moves to it', () => {
    // Splitting costs 3 until call 40, then 1; not splitting always costs 2.
    const h = harness((split, n) => (split ? (n < 40 ? 3 : 1) : 2))
    for (let i = 0; i < 200; i++) h.call()
    expect(h.ways.slice(6, 13).every((w) => !w)).toBe(true)
    // The retries of splitting (calls 13, 29, 61, 124) find it faster once two of the last three were.
    expect(h.ways.slice(125).filter((w) => !w).length).toBeLessThanOrEqual(3)
  })

  it('law: kinds are timed apart, and the result of the job is returned', () => {
    const h = harness((split, n) => (split ? 1 : 2) + (n % 2))
    expect(h.call('a')).toBe(true)
    expect(h.call('b')).toBe(true)
    expect(h.call('a')).toBe(false)
  })
})
