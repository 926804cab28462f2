/**
 * The training log: one JSON object per line (`log.jsonl`), a record every N optimizer steps and
 * one per epoch, plus the final test evaluation. Records are plain data made by the loop; this
 * file only defines them and renders them (JSON lines, one-line text summaries).
 *
 * Every field except `seconds` is a function of (model, data, config), so the log of a resumed
 * run equals the log of an uninterrupted one once `truncateLog` has dropped the lines written
 * after the checkpoint the run resumes from.
 */
import type { Evaluation } from './evaluate.js'

// ---------------------------------------------------------------------------------------------
// Model

/** Every `every` steps: the mean minibatch loss since the previous step record. */
export interface StepRecord {
  readonly type: 'step'
  readonly epoch: number
  /** Optimizer steps done since the start of the run (this one included). */
  readonly step: number
  readonly loss: number
  readonly lr: number
}

/** The end of an epoch: training loss, validation scores, early-stopping bookkeeping. */
export interface EpochRecord {
  readonly type: 'epoch'
  /** Epochs done (1 after the first). */
  readonly epoch: number
  readonly step: number
  /** Mean of the epoch's minibatch losses (each one sampled forward pass). */
  readonly trainLoss: number
  readonly lr: number
  readonly validation?: Evaluation
  /** The epoch (1-based) whose parameters scored best on validation so far. */
  readonly bestEpoch?: number
  readonly seconds: number
}

/** The final evaluation of the returned network on the test set. */
export interface TestRecord {
  readonly type: 'test'
  readonly epoch: number
  readonly step: number
  /** Which parameters were evaluated: the best on validation, or the last. */
  readonly parameters: 'best' | 'last'
  readonly test: Evaluation
}

export type LogRecord = StepRecord | EpochRecord | TestRecord

// ---------------------------------------------------------------------------------------------
// Rules: rendering

/** JSON has no NaN or Infinity: such numbers (the accuracy of a squared loss) are written null. */
const replacer = (_: string, v: unknown): unknown => (typeof v === 'number' && !Number.isFinite(v) ? null : v)

/**
 * One line of `log.jsonl` (with its newline).
 * @example logLine({ type: 'step', epoch: 0, step: 100, loss: 0.5, lr: 0.001 }) // '{"type":"step",…}\n'
 */
export const logLine = (r: LogRecord): string => `${JSON.stringify(r, replacer)}\n`

const pct = (x: number): string => (Number.isFinite(x) ? `${(100 * x).toFixed(2)}%` : 'n/a')

/**
 * One line of scores.
 * @example showEvaluation(e) // 'mode 91.20% (loss 0.3012), ensemble of 16 92.05% (loss 0.2811)'
 */
export const showEvaluation = (e: Evaluation): string =>
  `mode ${pct(e.mode.accuracy)} (loss ${e.mode.loss.toFixed(4)}), ensemble of ${e.ensemble.members} ${pct(e.ensemble.accuracy)} (loss ${e.ensemble.loss.toFixed(4)})`

/**
 * A one-line summary of an epoch record for the terminal.
 * @example showEpoch(r, 10) // 'epoch 1/10: train loss 0.5312, validation mode …, 4.1 s'
 */
export const showEpoch = (r: EpochRecord, epochs: number): string =>
  [
    `epoch ${r.epoch}/${epochs}: train loss ${r.trainLoss.toFixed(4)}`,
    r.validation === undefined ? '' : `, validation ${showEvaluation(r.validation)}`,
    r.bestEpoch === undefined || r.validation === undefined ? '' : r.bestEpoch === r.epoch ? ' (best)' : ` (best: epoch ${r.bestEpoch})`,
    `, ${r.seconds.toFixed(1)} s`,
  ].join('')

/**
 * The short form for the progress bar.
 * @example progressInfo(0.4123) // 'loss 0.4123'
 */
export const progressInfo = (loss: number, validation?: Pick<Evaluation, 'mode' | 'ensemble'>): string =>
  `loss ${Number.isFinite(loss) ? loss.toFixed(4) : 'n/a'}` +
  (validation === undefined ? '' : ` val ${pct(validation.mode.accuracy)}/${pct(validation.ensemble.accuracy)}`)

// ---------------------------------------------------------------------------------------------
// Utilities

/**
 * The lines of a log up to and including optimizer step `step` (a resumed run continues from
 * there); unreadable lines (a line torn by a crash) are dropped.
 * @example truncateLog('{"type":"step","step":1}\n{"type":"step","step":2}\n', 1) // '{"type":"step","step":1}\n'
 */
export const truncateLog = (text: string, step: number): string =>
  text
    .split('\n')
    .filter((line) => {
      if (line.trim() === '') return false
      try {
        const r = JSON.parse(line) as { step?: unknown; type?: unknown }
        return typeof r.step === 'number' && r.step <= step && r.type !== 'test'
      } catch {
        return false
      }
    })
    .map((line) => `${line}\n`)
    .join('')
