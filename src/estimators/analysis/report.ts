/** Renderings of a gradeval report: JSON for tools, a text table for people, an SVG chart. */
import type { Panel } from '../../plot/svg.js'
import { lineChart } from '../../plot/svg.js'
import type { GradevalReport } from './lab.js'

/** Float64Array → plain numbers (JSON keeps every float64 exactly). */
const list = (v: Float64Array): number[] => Array.from(v)

/**
 * The JSON document of `sbnkit gradeval --json`: per estimator and parameter group, the curves
 * per M, the mean gradient with its standard error, the per-draw variance, and the bias norm with
 * its standard error and noise floor; the exact gradient per group; wall-clock `seconds`, which the
 * CLI moves under `timing` (everything else is a function of the inputs and the seed).
 */
export const gradevalJson = (r: GradevalReport, meta: Readonly<Record<string, unknown>> = {}): unknown => ({
  format: 'sbnkit-gradeval/2',
  ...meta,
  draws: r.draws,
  exactLoss: r.exactLoss,
  groups: r.groups,
  exact: Object.fromEntries(Object.entries(r.exact).map(([g, v]) => [g, list(v)])),
  estimators: Object.fromEntries(
    r.estimators.map((e) => [
      e.label,
      { layers: Object.fromEntries(
        Object.entries(e.layers).map(([layer, c]) => [
          layer,
          {
            relativeBias: c.relativeBias,
            biasNorm: c.biasNorm,
            biasNormStderr: c.biasNormStderr,
            noiseFloor: c.noiseFloor,
            variance: c.variance,
            mean: list(c.mean),
            stderr: list(c.stderr),
            perDrawVariance: list(c.perDrawVariance),
            byM: c.M.map((M, i) => ({ M, cosine: c.cosine[i]!.mean, cosineQ15: c.cosine[i]!.q15, cosineQ85: c.cosine[i]!.q85, relativeRmse: c.relativeRmse[i]! })),
          },
        ]),
      ) },
    ]),
  ),
  // Wall-clock seconds per estimator: the CLI files them under `timing` (src/cli/json.ts).
  seconds: r.timing,
})

const pick = (M: readonly number[], want: number): number => {
  let best = 0
  for (let i = 0; i < M.length; i++) if (M[i]! <= want) best = i
  return best
}

/** A text table: mean cosine at M = 1, 100 and the largest M, and the relative bias, per layer. */
export const gradevalTable = (r: GradevalReport): string => {
  const layers = Object.keys(r.groups)
  const rows: string[][] = [['estimator', 'layer', 'cos M=1', 'cos M=100', `cos M=max`, 'rel. RMSE M=1', 'rel. bias']]
  for (const e of r.estimators)
    for (const layer of layers) {
      const c = e.layers[layer]!
      const at = (m: number): string => c.cosine[pick(c.M, m)]!.mean.toFixed(3)
      rows.push([e.label, layer, at(1), at(100), at(Infinity), c.relativeRmse[0]!.toFixed(3), c.relativeBias.toFixed(3)])
    }
  const widths = rows[0]!.map((_, j) => Math.max(...rows.map((row) => row[j]!.length)))
  return rows.map((row) => row.map((cell, j) => (j < 2 ? cell.padEnd(widths[j]!) : cell.padStart(widths[j]!))).join('  ')).join('\n') + '\n'
}

const lowestOf = (reports: readonly GradevalReport[]): number =>
  Math.min(-0.2, ...reports.flatMap((r) => r.estimators.flatMap((e) => Object.values(e.layers).flatMap((c) => c.cosine.map((v) => v.q15)))))

/** One panel: cosine versus M for one layer, one line per estimator with its 15–85 % band. */
const panelOf = (r: GradevalReport, layer: string, title: string, lowest: number): Panel => ({
  title,
  xLabel: 'M (draws averaged)',
  yLabel: 'cosine to the exact gradient',
  logX: true,
  yRange: [Math.max(-1, Math.floor(lowest * 10) / 10), 1],
  series: r.estimators.map((e) => {
    const c = e.layers[layer]!
    return { label: e.label, x: c.M, y: c.cosine.map((v) => v.mean), lo: c.cosine.map((v) => v.q15), hi: c.cosine.map((v) => v.q85) }
  }),
})

/** Cosine to the exact gradient versus M (log axis), one panel per layer, one line per estimator with its 15–85 % band. */
export const gradevalChart = (r: GradevalReport, title = 'Gradient accuracy: cos(ĝ_M, exact) vs M'): string => {
  const lowest = lowestOf([r])
  return lineChart(Object.keys(r.groups).map((layer) => panelOf(r, layer, layer, lowest)), { title, columns: 2 })
}

/** Along training: one row of panels per layer, one column per epoch (the epochs side by side). */
export const gradevalAlongChart = (
  points: readonly { readonly epoch: number; readonly report: GradevalReport }[],
  title = 'Gradient accuracy along training: cos(ĝ_M, exact) vs M',
): string => {
  const lowest = lowestOf(points.map((p) => p.report))
  const layers = Object.keys(points[0]?.report.groups ?? {})
  const panels = layers.flatMap((layer) => points.map((p) => panelOf(p.report, layer, `${layer}, epoch ${p.epoch}`, lowest)))
  return lineChart(panels, { title, columns: Math.max(1, points.length), panelWidth: 340, panelHeight: 230 })
}

/** A text table per epoch, headed by the epoch, its training loss and the exact expected loss. */
export const gradevalAlongTable = (points: readonly { readonly epoch: number; readonly trainLoss?: number; readonly report: GradevalReport }[]): string =>
  points.map((p) =>
    `epoch ${p.epoch}${p.trainLoss === undefined ? '' : ` (training loss ${p.trainLoss.toFixed(4)})`}: exact expected loss ${p.report.exactLoss.toFixed(6)}\n${gradevalTable(p.report)}`,
  ).join('\n')
