/**
 * Strict parsing of command-line values, shared by every command: counts and seeds are decimal
 * digits only (`--seed 0x10`, `" 7 "`, `1e9` and `+3` are refused, never reinterpreted), each
 * checked against its range and, for sizes, against the memory budget before anything is
 * allocated. Messages name the flag, what was expected and what was found (escaped).
 */
import { totalmem } from 'node:os'
import * as E from 'fp-ts/lib/Either.js'
import type { Budget } from '../interpreters/budget.js'
import { fits, parseBytes, showBytes } from '../interpreters/budget.js'
import type { Io } from './io.js'
import { availableCores } from '../threads/pool.js'

/** The default memory limit: half of the machine's memory. */
export const machineBudget = (): Budget => ({ maxBytes: Math.floor(totalmem() / 2) })

/** The budget a command runs under: `--max-memory`, else half of the machine's memory. */
export const budgetOf = (io: Io): Budget => io.budget ?? machineBudget()

/** `--max-memory SIZE`: `4GB`, `512MB`, a number of bytes. */
export const parseMaxMemory = (text: string): E.Either<string, Budget> => {
  const bytes = parseBytes(text)
  return bytes === undefined
    ? E.left(`--max-memory expects a size such as 4GB, 512MB or a number of bytes, found ${JSON.stringify(text)}`)
    : E.right({ maxBytes: bytes })
}

/**
 * A whole number written in decimal digits, in [min, max].
 * @example wholeNumber('--samples', '100', 1) // right(100); '0x10', ' 7 ', '1e3' are left
 */
export const wholeNumber = (flag: string, text: string, min: number, max = Number.MAX_SAFE_INTEGER): E.Either<string, number> => {
  const n = /^(0|[1-9]\d*)$/.test(text) ? Number(text) : Number.NaN
  if (Number.isSafeInteger(n) && n >= min && n <= max) return E.right(n)
  const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `in ${min}..${max}`
  return E.left(`${flag} expects a whole number ${range} in decimal digits, found ${JSON.stringify(text)}`)
}

/**
 * A real number written in decimal (digits, an optional fraction, an optional exponent: `0.01`,
 * `1e-3`), finite and accepted by `ok`; `0x10`, `" 1 "`, `Infinity` and `.` are refused.
 * @example realNumber('--lr', '1e-3', (x) => x > 0, 'a number > 0') // right(0.001)
 */
export const realNumber = (flag: string, text: string, ok: (x: number) => boolean, expected: string): E.Either<string, number> => {
  const n = /^-?(\d+\.?\d*|\.\d+)(e[-+]?\d+)?$/i.test(text) ? Number(text) : Number.NaN
  return Number.isFinite(n) && ok(n) ? E.right(n) : E.left(`${flag} expects ${expected} in decimal, found ${JSON.stringify(text)}`)
}

/**
 * `--threads N` of every command: a whole number in 1..`max`, or every core of this machine when
 * the flag is absent (`absent`, default `availableCores()`, capped at `max`).
 * @example threadCount(undefined, 256) // right(2) on a 2-core machine; threadCount('0', 256) is left
 */
export const threadCount = (text: string | undefined, max: number, absent: () => number = availableCores): E.Either<string, number> =>
  text === undefined ? E.right(Math.min(max, absent())) : wholeNumber('--threads', text, 1, max)

/** A PRNG seed: a whole number in [0, 2^53) in decimal digits. */
export const seedValue = (flag: string, text: string): E.Either<string, number> => wholeNumber(flag, text, 0)

/**
 * A count that sizes memory: `count` × `bytesEach` must fit the budget. The message says what
 * the count would need: `--batch 1000000000 would need 6.3 TB; the limit is 4 GB`.
 */
export const sizedCount = (budget: Budget, flag: string, count: number, bytesEach: number): E.Either<string, number> =>
  E.map(() => count)(fits(budget, count * bytesEach, `${flag} ${count}`))

/** The size of a file against the budget, before reading it. */
export const fileFits = (budget: Budget, file: string, bytes: number, factor: number): E.Either<string, void> =>
  fits(budget, bytes * factor, `${file} (${showBytes(bytes)} on disk)`)
