/**
 * Refitting the real head of the mode network on the mode network's own features. Training fits
 * the head (the real linear map under the softmax) to the features of *sampled* networks: ±1
 * units whose means are the proxies 2F(a) − 1 (MATH.md §2). The deployed mode network feeds it
 * sign(a) instead, a different input distribution, so its head is only approximately right for
 * it. With the binary layers fixed at their modes (and batch norm re-estimated under them,
 * `recalibrateMode`), the head's loss is a softmax regression on fixed ±1 features: a convex
 * problem, solved here by a few epochs of Adam on minibatches, starting from the trained head.
 * Nothing else changes, so the binary layers a user deploys are exactly the trained modes.
 */
import * as E from 'fp-ts/lib/Either.js'
import type { Checked, Network, Node } from '../dsl/node.js'
import type { Key } from '../dsl/random.js'
import { foldIn } from '../dsl/random.js'
import { permutation } from '../data/prng.js'
import { topoOrder } from '../dsl/fold.js'
import { bind } from '../interpreters/bind.js'
import type { RunError } from '../interpreters/runErrors.js'
import { modeRule } from '../interpreters/reference/sampling.js'
import type { MatrixProducts } from '../interpreters/reference/ops.js'
import { evaluate } from '../interpreters/reference/forward.js'
import type { Dataset } from './evaluate.js'
import { withParams } from './modes.js'

// ---------------------------------------------------------------------------------------------
// Model

export interface RefitOptions {
  /** Passes over the training rows (default 2). */
  readonly epochs?: number
  /** Adam's learning rate, annealed to 0 by a cosine over the passes (default 0.01). */
  readonly lr?: number
  /** Minibatch size (default 128). */
  readonly batch?: number
  /** Shuffles the rows of every pass. */
  readonly key: Key
  readonly products?: MatrixProducts
}

/** The head of a softmax network: logits = h·W (+ b), W and b parameters. */
interface Head {
  readonly features: Node
  readonly weight: string
  readonly bias?: string
}

// ---------------------------------------------------------------------------------------------
// Rules

/** The softmax head, if the loss reads logits = h·W + b (or h·W) with W and b parameters. */
const findHead = (net: Network): E.Either<string, Head> => {
  const loss = topoOrder(Object.values(net.outputs)).find((n) => n._tag === 'Loss')
  if (loss === undefined || loss._tag !== 'Loss' || loss.op !== 'softmax-ce') return E.left('refitHead: the network has no softmax cross-entropy loss')
  const top = loss.logits
  const product = top._tag === 'Add' && top.lhs._tag === 'MatMul' ? top.lhs : top
  const bias = top._tag === 'Add' && top.rhs._tag === 'Param' ? top.rhs.name : undefined
  if (product._tag !== 'MatMul' || product.rhs._tag !== 'Param') return E.left('refitHead: the logits are not a product h·W with a real parameter W')
  return E.right({ features: product.lhs, weight: product.rhs.name, ...(bias === undefined ? {} : { bias }) })
}

/**
 * The network with its real head refitted to the mode network's features of the `train` rows
 * (softmax regression, Adam, from the current head); every other parameter is unchanged. Use it
 * on the network that `recalibrateMode` returned, for mode inference.
 * @example refitHead(recalibrated, data.train, { key: key(0) }) // right(the same network, a better head for its mode)
 */
export const refitHead = <N extends Network>(net: Checked<N>, train: Dataset, opts: RefitOptions): E.Either<RunError | string, Checked<N>> => {
  const head = findHead(net)
  if (E.isLeft(head)) return head
  const W0 = net.params[head.right.weight]
  if (W0 === undefined) return E.left(`refitHead: no parameter ${head.right.weight}`)
  const b0 = head.right.bias === undefined ? new Float64Array(0) : net.params[head.right.bias] ?? new Float64Array(0)
  // 1. The mode network's features of every training row, in chunks.
  const n = train.size
  let d = 0
  let X = new Float32Array(0)
  const y = new Int32Array(n)
  for (let start = 0; start < n; start += 1000) {
    const feed = train.slice(start, Math.min(n, start + 1000))
    const bound = bind(net, feed, [head.right.features])
    if (E.isLeft(bound)) return bound
    const ev = evaluate({ net, feed, batch: bound.right.batch, binarize: modeRule, ...(opts.products === undefined ? {} : { products: opts.products }) }, [head.right.features])
    const h = ev.values.get(head.right.features)!.data
    if (start === 0) {
      d = h.length / bound.right.batch
      X = new Float32Array(n * d)
    }
    X.set(h, start * d)
    const labels = feed['y']?.data ?? new Float64Array(0)
    for (let i = 0; i < bound.right.batch; i++) y[start + i] = labels[i]!
  }
  const k = W0.length / d
  if (!Number.isInteger(k) || (b0.length !== 0 && b0.length !== k)) return E.left(`refitHead: ${head.right.weight} has ${W0.length} values, not features (${d}) × classes`)
  // 2. Softmax regression with Adam from the trained head.
  const W = Float64Array.from(W0)
  const b = Float64Array.from(b0.length === 0 ? new Float64Array(k) : b0)
  const params = [W, b]
  const m = params.map((p) => new Float64Array(p.length))
  const v = params.map((p) => new Float64Array(p.length))
  const grads = params.map((p) => new Float64Array(p.length))
  const epochs = opts.epochs ?? 2
  const batch = opts.batch ?? 128
  const lr0 = opts.lr ?? 0.01
  const steps = epochs * Math.ceil(n / batch)
  const logits = new Float64Array(k)
  let t = 0
  for (let e = 0; e < epochs; e++) {
    const order = permutation(n, foldIn(opts.key, e))
    for (let s = 0; s < n; s += batch) {
      const rows = order.subarray(s, Math.min(n, s + batch))
      const [gW, gb] = grads as [Float64Array, Float64Array]
      gW.fill(0)
      gb.fill(0)
      for (const r of rows) {
        const off = r * d
        for (let c = 0; c < k; c++) logits[c] = b[c]!
        for (let i = 0; i < d; i++) {
          const x = X[off + i]!
          if (x === 0) continue
          for (let c = 0; c < k; c++) logits[c] = logits[c]! + x * W[i * k + c]!
        }
        let max = -Infinity
        for (let c = 0; c < k; c++) max = Math.max(max, logits[c]!)
        let sum = 0
        for (let c = 0; c < k; c++) sum += (logits[c] = Math.exp(logits[c]! - max))
        // ∂(mean loss)/∂logit = (softmax − onehot) / |batch|
        for (let c = 0; c < k; c++) logits[c] = (logits[c]! / sum - (c === y[r] ? 1 : 0)) / rows.length
        for (let c = 0; c < k; c++) gb[c] = gb[c]! + logits[c]!
        for (let i = 0; i < d; i++) {
          const x = X[off + i]!
          if (x === 0) continue
          for (let c = 0; c < k; c++) gW[i * k + c] = gW[i * k + c]! + x * logits[c]!
        }
      }
      t++
      const lr = (lr0 * (1 + Math.cos((Math.PI * (t - 1)) / steps))) / 2
      params.forEach((p, j) => adamStep(p, grads[j]!, m[j]!, v[j]!, lr, t))
    }
  }
  const refit: Record<string, Float64Array> = { ...net.params, [head.right.weight]: W }
  if (head.right.bias !== undefined) refit[head.right.bias] = b
  return E.right(withParams(net, refit))
}

// ---------------------------------------------------------------------------------------------
// Utilities

/** One Adam step in place (β₁ 0.9, β₂ 0.999, ε 1e−8, bias-corrected), as `adam()` computes it. */
const adamStep = (p: Float64Array, g: Float64Array, m: Float64Array, v: Float64Array, lr: number, t: number): void => {
  const c1 = 1 - 0.9 ** t
  const c2 = 1 - 0.999 ** t
  for (let i = 0; i < p.length; i++) {
    m[i] = 0.9 * m[i]! + 0.1 * g[i]!
    v[i] = 0.999 * v[i]! + 0.001 * g[i]! * g[i]!
    p[i] = p[i]! - (lr * (m[i]! / c1)) / (Math.sqrt(v[i]! / c2) + 1e-8)
  }
}
