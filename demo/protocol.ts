/** The messages between the page (main.ts) and the training worker (worker.ts). */

export interface TrainRequest {
  readonly type: 'train'
  readonly epochs: number
  readonly seed: number
  readonly estimator: string
  readonly lr: number
}

/** A square grid of the input plane, row-major from the top-left corner. */
export interface Grid {
  readonly size: number
  readonly x1: readonly [number, number]
  readonly x2: readonly [number, number]
}

export interface EpochReport {
  readonly type: 'epoch'
  readonly epoch: number
  readonly epochs: number
  readonly trainLoss: number
  readonly mode: { readonly loss: number; readonly accuracy: number }
  readonly ensemble: { readonly loss: number; readonly accuracy: number; readonly members: number }
  /** Mode network's class (+1 → 1, −1 → 0) and ensemble's P(y = +1) on the grid. */
  readonly regions: { readonly grid: Grid; readonly mode: Uint8Array; readonly ensemble: Float32Array }
  /** cos(ST gradient, exact gradient) per layer (mean of one-draw cosines), when measured this epoch. */
  readonly cosines?: Readonly<Record<string, number>>
  /** Milliseconds of training in this epoch (no evaluation). */
  readonly ms: number
}

export interface DataReport {
  readonly type: 'data'
  /** x₁, x₂, y (±1) per point. */
  readonly points: Float64Array
}

export type WorkerMessage =
  | DataReport
  | EpochReport
  | { readonly type: 'done'; readonly products: string }
  | { readonly type: 'error'; readonly message: string }
