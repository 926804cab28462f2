/** Renderings of a gradeval report: JSON for tools, a text table for people, an SVG chart. */
import type { Panel } from '../../plot/svg.js'
import { lineChart } from '../../plot/svg.js'
import type { GradevalReport } from './gradeval.js'

/** The JSON document of `sbnkit gradeval --json`: per estimator, per layer, per M. */
export const gradevalJson = (r: GradevalReport, meta: Readonly<Record<string, unknown>> = {}): unknown => ({
  format: 'sbnkit-gradeval/1',
  ...meta,
  draws: r.draws,
  exactLoss: r.exactLoss,
  groups: r.groups,
  estimators: Object.fromEntries(
    r.estimators.map((e) => [
      e.label,
      {
        seconds: e.seconds,
        layers: Object.fromEntries(
          Object.entries(e.layers).map(([layer, c]) => [
            layer,
            {
              relativeBias: c.relativeBias,
              variance: c.variance,
              byM: c.M.map((M, i) => ({ M, cosine: c.cosine[i]!.mean, cosineQ15: c.cosine[i]!.q15, cosineQ85: c.cosine[i]!.q85, relativeRmse: c.relativeRmse[i]! })),
            },
          ]),
        ),
      },
    ]),
  ),
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

/** Cosine to the exact gradient versus M (log axis), one panel per layer, one line per estimator with its 15–85 % band. */
export const gradevalChart = (r: GradevalReport, title = 'Gradient accuracy: cos(ĝ_M, exact) vs M'): string => {
  const lowest = Math.min(-0.2, ...r.estimators.flatMap((e) => Object.values(e.layers).flatMap((c) => c.cosine.map((v) => v.q15))))
  const panels: Panel[] = Object.keys(r.groups).map((layer) => ({
    title: layer,
    xLabel: 'M (draws averaged)',
    yLabel: 'cosine to the exact gradient',
    logX: true,
    yRange: [Math.max(-1, Math.floor(lowest * 10) / 10), 1],
    series: r.estimators.map((e) => {
      const c = e.layers[layer]!
      return { label: e.label, x: c.M, y: c.cosine.map((v) => v.mean), lo: c.cosine.map((v) => v.q15), hi: c.cosine.map((v) => v.q85) }
    }),
  }))
  return lineChart(panels, { title, columns: 2 })
}
