/**
 * The binarize rules of sampling interpreters, defined once: a unit is +1 iff its uint32 draw
 * u < T(F(a)) (`signsInto` in `../noise.ts`). The draw of element i of site s in a forward pass
 * with key k is `bits(siteKey(k, s), i)`, i the flat row-major index in the concrete tensor
 * ([N, …] for activations; the weight tensor's own shape for weights, drawn once per pass).
 * Sample j of a run with key K uses the pass key `foldIn(K, j)`.
 */
import type { Key } from '../../dsl/random.js'
import { foldIn, siteKey } from '../../dsl/random.js'
import type { NDArray } from '../ndarray.js'
import { signsInto } from '../noise.js'
import type { BinarizeRule } from '../reference/forward.js'

/** The key of forward pass (sample) `j` of a run with key `k`. */
export const passKey = (k: Key, j: number): Key => foldIn(k, j)

/** Sample every binarize node with its own noise, keyed by (pass key, site, index). */
export const sampleRule = (pass: Key): BinarizeRule => (node, input) => ({
  shape: input.shape,
  data: signsInto(siteKey(pass, node.site), 0, input.data, node.noise, new Float64Array(input.data.length)),
})

/** The deterministic "mode" network: every binarize becomes sign (+1 iff a ≥ 0). */
export const modeRule: BinarizeRule = (_, input): NDArray => {
  const out = new Float64Array(input.data.length)
  for (let i = 0; i < out.length; i++) out[i] = input.data[i]! >= 0 ? 1 : -1
  return { shape: input.shape, data: out }
}
