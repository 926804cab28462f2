/**
 * Learning-rate schedules as data, and the learning rate as a pure function of (schedule, base
 * rate, training time). Time is measured in epochs, fractional: optimizer step k (from 0) of an
 * epoch e (from 0) with n batches is at t = e + k/n. So `step:10:0.5` halves the rate every 10
 * epochs whatever the batch size, cosine anneals smoothly within epochs, and a resumed run
 * recomputes the same rate from the step counter alone.
 */
import * as E from 'fp-ts/lib/Either.js'

// ---------------------------------------------------------------------------------------------
// Model

interface Warmup {
  /** Linear warm-up over the first `warmup` epochs: the rate is multiplied by min(1, t/warmup). */
  readonly warmup?: number
}

export type Schedule =
  | ({ readonly kind: 'constant' } & Warmup)
  /** base · gamma^floor(t / every). */
  | ({ readonly kind: 'step'; readonly every: number; readonly gamma: number } & Warmup)
  /**
   * min + (base − min)·(1 + cos(π·t/total))/2 for t ≤ total, then min. `total` (epochs) may be
   * left out when parsing and filled by the loop with `withTotal`; `min` defaults to 0.
   */
  | ({ readonly kind: 'cosine'; readonly total?: number; readonly min?: number } & Warmup)

// ---------------------------------------------------------------------------------------------
// Constructors

/**
 * The learning rate at time t (epochs, fractional, ≥ 0).
 * @example
 * learningRate({ kind: 'step', every: 10, gamma: 0.5 }, 0.1, 25) // 0.025
 */
export const learningRate = (schedule: Schedule, base: number, t: number): number => {
  const warm = schedule.warmup === undefined || schedule.warmup <= 0 ? 1 : Math.min(1, t / schedule.warmup)
  switch (schedule.kind) {
    case 'constant':
      return base * warm
    case 'step':
      return base * schedule.gamma ** Math.floor(t / schedule.every) * warm
    case 'cosine': {
      const total = schedule.total
      // A missing total is a loop bug: `parseSchedule` leaves it for `withTotal` to fill.
      if (total === undefined) throw new RangeError('learningRate: a cosine schedule needs its total (call withTotal with the number of epochs)')
      const min = schedule.min ?? 0
      const progress = Math.min(1, Math.max(0, t / total))
      return (min + ((base - min) * (1 + Math.cos(Math.PI * progress))) / 2) * warm
    }
  }
}

/**
 * Fills the total of a cosine schedule that has none (the run's number of epochs).
 * @example
 * withTotal({ kind: 'cosine' }, 20) // { kind: 'cosine', total: 20 }
 */
export const withTotal = (schedule: Schedule, epochs: number): Schedule =>
  schedule.kind === 'cosine' && schedule.total === undefined ? { ...schedule, total: epochs } : schedule

/**
 * Parses a schedule as written on the command line: `constant`, `step:<every>:<gamma>`,
 * `cosine`, `cosine:<total>`, `cosine:<total>:<min>` (`cosine::<min>` leaves the total to the
 * loop), each optionally followed by
 * `,warmup=<epochs>`. Epoch counts may be fractional.
 * @example
 * parseSchedule('step:10:0.5,warmup=1') // right({ kind: 'step', every: 10, gamma: 0.5, warmup: 1 })
 */
export const parseSchedule = (text: string): E.Either<string, Schedule> => {
  const fail = (what: string): E.Either<string, Schedule> =>
    E.left(`schedule ${JSON.stringify(text)}: ${what}; expected constant, step:<every epochs>:<gamma>, cosine, cosine:<total epochs> or cosine:<total epochs>:<min rate>, optionally followed by ,warmup=<epochs>`)
  const [body = '', ...mods] = text.trim().split(',')
  let warmup: Warmup = {}
  for (const mod of mods) {
    const m = /^\s*warmup=(.*)$/.exec(mod)
    if (m === null) return fail(`unknown modifier ${JSON.stringify(mod)}`)
    const w = num(m[1]!)
    if (w === undefined || w < 0) return fail(`warmup must be a number ≥ 0, found ${JSON.stringify(m[1])}`)
    warmup = { warmup: w }
  }
  const [kind, ...args] = body.split(':')
  switch (kind) {
    case 'constant':
      return args.length === 0 ? E.right({ kind, ...warmup }) : fail('constant takes no arguments')
    case 'step': {
      if (args.length !== 2) return fail(`step takes 2 arguments, found ${args.length}`)
      const every = num(args[0]!)
      const gamma = num(args[1]!)
      if (every === undefined || every <= 0) return fail(`every must be a number > 0, found ${JSON.stringify(args[0])}`)
      if (gamma === undefined || gamma <= 0) return fail(`gamma must be a number > 0, found ${JSON.stringify(args[1])}`)
      return E.right({ kind, every, gamma, ...warmup })
    }
    case 'cosine': {
      if (args.length > 2) return fail(`cosine takes at most 2 arguments, found ${args.length}`)
      // An empty total (`cosine::0.001`) is left for the loop to fill, like a bare `cosine`.
      const rawTotal = args[0] === '' ? undefined : args[0]
      const total = rawTotal === undefined ? undefined : num(rawTotal)
      if (rawTotal !== undefined && (total === undefined || total <= 0)) return fail(`total must be a number > 0, found ${JSON.stringify(args[0])}`)
      const min = args[1] === undefined ? undefined : num(args[1])
      if (args[1] !== undefined && (min === undefined || min < 0)) return fail(`min must be a number ≥ 0, found ${JSON.stringify(args[1])}`)
      return E.right({ kind, ...(total === undefined ? {} : { total }), ...(min === undefined ? {} : { min }), ...warmup })
    }
    default:
      return fail(`unknown kind ${JSON.stringify(kind)}`)
  }
}

/**
 * The schedule as `parseSchedule` reads it (for logs and checkpoints).
 * @example
 * showSchedule({ kind: 'cosine', total: 20 }) // 'cosine:20'
 */
export const showSchedule = (s: Schedule): string => {
  const warm = s.warmup === undefined ? '' : `,warmup=${s.warmup}`
  switch (s.kind) {
    case 'constant':
      return `constant${warm}`
    case 'step':
      return `step:${s.every}:${s.gamma}${warm}`
    case 'cosine':
      return `cosine${s.total === undefined ? '' : `:${s.total}`}${s.min === undefined ? '' : `${s.total === undefined ? ':' : ''}:${s.min}`}${warm}`
  }
}

// ---------------------------------------------------------------------------------------------
// Utilities

/** A finite decimal number, or undefined (no empty strings, no `Infinity`, no hex). */
const num = (s: string): number | undefined => {
  const t = s.trim()
  if (!/^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(t)) return undefined
  const x = Number(t)
  return Number.isFinite(x) ? x : undefined
}
