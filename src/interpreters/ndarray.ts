/**
 * Run-time tensors: a concrete shape and row-major float64 values. Data fed to a network is a
 * `Feed`: one NDArray per input name, all sharing the leading (batch) size. Class labels are
 * stored as float64 integers, ±1 labels as ±1.
 */

export interface NDArray {
  readonly shape: readonly number[]
  readonly data: Float64Array
}

/** Values for the named inputs of a network, with a common leading batch size. */
export type Feed = Readonly<Record<string, NDArray>>

export const ndarray = (shape: readonly number[], data?: ArrayLike<number>): NDArray => {
  const size = shape.reduce((a, b) => a * b, 1)
  const values = data === undefined ? new Float64Array(size) : Float64Array.from(data)
  if (values.length !== size) throw new RangeError(`ndarray: expected ${size} values for shape [${shape.join(', ')}], found ${values.length}`)
  return { shape, data: values }
}

export const sizeOfShape = (shape: readonly number[]): number => shape.reduce((a, b) => a * b, 1)

/** Rows [start, end) of every array of a feed (a minibatch). */
export const sliceFeed = (feed: Feed, start: number, end: number): Feed => {
  const out: Record<string, NDArray> = {}
  for (const [name, arr] of Object.entries(feed)) {
    const row = sizeOfShape(arr.shape.slice(1))
    out[name] = { shape: [end - start, ...arr.shape.slice(1)], data: arr.data.subarray(start * row, end * row) }
  }
  return out
}

/** Rows `rows` (in that order) of every array of a feed. */
export const gatherFeed = (feed: Feed, rows: ArrayLike<number>): Feed => {
  const out: Record<string, NDArray> = {}
  for (const [name, arr] of Object.entries(feed)) {
    const row = sizeOfShape(arr.shape.slice(1))
    const data = new Float64Array(rows.length * row)
    for (let i = 0; i < rows.length; i++) data.set(arr.data.subarray(rows[i]! * row, (rows[i]! + 1) * row), i * row)
    out[name] = { shape: [rows.length, ...arr.shape.slice(1)], data }
  }
  return out
}

/** The common leading size of a feed (undefined for an empty feed). */
export const batchSize = (feed: Feed): number | undefined => Object.values(feed)[0]?.shape[0]
