/**
 * The naive baseline: a Float32Array triple loop computing sign(x·W) for x [m, k] and W [k, n]
 * (W stored transposed so the inner loop is contiguous, which is the kindest naive loop).
 */

export interface NaiveLayer {
  readonly run: () => void
  readonly out: Float32Array
}

export const naiveLayer = (x: Float32Array, wT: Float32Array, m: number, k: number, n: number): NaiveLayer => {
  const out = new Float32Array(m * n)
  const run = (): void => {
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0
        for (let p = 0; p < k; p++) s += x[i * k + p]! * wT[j * k + p]!
        out[i * n + j] = s >= 0 ? 1 : -1
      }
  }
  return { run, out }
}
