/**
 * A small SVG line-chart writer for reports: panels in a grid, each with lines and optional
 * shaded bands, linear or log x axis, a shared legend. Text in, text out: no DOM, no dependency.
 */

export interface Series {
  readonly label: string
  readonly x: readonly number[]
  readonly y: readonly number[]
  /** Optional band (e.g. 15 %/85 % quantiles) drawn under the line. */
  readonly lo?: readonly number[]
  readonly hi?: readonly number[]
}

export interface Panel {
  readonly title: string
  readonly xLabel: string
  readonly yLabel: string
  readonly logX?: boolean
  /** Fixed y range; otherwise fitted to the data. */
  readonly yRange?: readonly [number, number]
  readonly series: readonly Series[]
}

export interface ChartOptions {
  readonly title: string
  readonly columns?: number
  readonly panelWidth?: number
  readonly panelHeight?: number
}

/** A colour-blind-safe palette (Okabe–Ito, then Tableau), cycled by series index. */
export const palette = ['#0072B2', '#E69F00', '#009E73', '#D55E00', '#CC79A7', '#56B4E9', '#F0E442', '#000000', '#8c564b', '#7f7f7f']

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const fmt = (v: number): string => (Math.abs(v) >= 1000 || (Math.abs(v) < 0.01 && v !== 0) ? v.toExponential(0) : String(Number(v.toPrecision(3))))

const niceTicks = (lo: number, hi: number, n = 5): number[] => {
  const span = hi - lo || 1
  const step0 = span / n
  const mag = 10 ** Math.floor(Math.log10(step0))
  const step = [1, 2, 2.5, 5, 10].map((m) => m * mag).find((s) => span / s <= n) ?? 10 * mag
  const out: number[] = []
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)))
  return out
}

const panelSvg = (p: Panel, ox: number, oy: number, w: number, h: number, colorOf: (label: string) => string): string => {
  const m = { l: 52, r: 12, t: 24, b: 38 }
  const iw = w - m.l - m.r
  const ih = h - m.t - m.b
  const xs = p.series.flatMap((s) => s.x).filter((v) => Number.isFinite(v) && (!p.logX || v > 0))
  const ys = p.series.flatMap((s) => [...s.y, ...(s.lo ?? []), ...(s.hi ?? [])]).filter(Number.isFinite)
  const tx = (v: number): number => (p.logX ? Math.log10(v) : v)
  const [x0, x1] = xs.length ? [Math.min(...xs.map(tx)), Math.max(...xs.map(tx))] : [0, 1]
  const [y0, y1] = p.yRange ?? (ys.length ? [Math.min(...ys), Math.max(...ys)] : [0, 1])
  const sx = (v: number): number => ox + m.l + ((tx(v) - x0) / (x1 - x0 || 1)) * iw
  const sy = (v: number): number => oy + m.t + ih - ((v - y0) / (y1 - y0 || 1)) * ih
  const parts: string[] = [
    `<text x="${ox + m.l + iw / 2}" y="${oy + 16}" text-anchor="middle" font-weight="bold">${esc(p.title)}</text>`,
    `<rect x="${ox + m.l}" y="${oy + m.t}" width="${iw}" height="${ih}" fill="none" stroke="#999"/>`,
  ]
  for (const v of niceTicks(y0, y1)) {
    parts.push(`<line x1="${ox + m.l}" x2="${ox + m.l + iw}" y1="${sy(v)}" y2="${sy(v)}" stroke="#eee"/>`)
    parts.push(`<text x="${ox + m.l - 4}" y="${sy(v) + 4}" text-anchor="end" font-size="10">${fmt(v)}</text>`)
  }
  const xticks = p.logX ? Array.from({ length: Math.floor(x1) - Math.ceil(x0) + 1 }, (_, i) => 10 ** (Math.ceil(x0) + i)) : niceTicks(x0, x1)
  for (const v of xticks) {
    parts.push(`<line x1="${sx(v)}" x2="${sx(v)}" y1="${oy + m.t}" y2="${oy + m.t + ih}" stroke="#eee"/>`)
    parts.push(`<text x="${sx(v)}" y="${oy + m.t + ih + 14}" text-anchor="middle" font-size="10">${fmt(v)}</text>`)
  }
  parts.push(`<text x="${ox + m.l + iw / 2}" y="${oy + h - 6}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`)
  parts.push(`<text transform="translate(${ox + 12},${oy + m.t + ih / 2}) rotate(-90)" text-anchor="middle" font-size="11">${esc(p.yLabel)}</text>`)
  const clip = (v: number): number => Math.min(Math.max(v, y0), y1)
  for (const s of p.series) {
    const c = colorOf(s.label)
    const idx = s.x.map((_, i) => i).filter((i) => Number.isFinite(s.y[i]!) && (!p.logX || s.x[i]! > 0))
    if (s.lo !== undefined && s.hi !== undefined && idx.length > 1) {
      const upper = idx.map((i) => `${sx(s.x[i]!)},${sy(clip(s.hi![i]!))}`)
      const lower = idx.slice().reverse().map((i) => `${sx(s.x[i]!)},${sy(clip(s.lo![i]!))}`)
      parts.push(`<polygon points="${[...upper, ...lower].join(' ')}" fill="${c}" fill-opacity="0.15" stroke="none"/>`)
    }
    parts.push(`<polyline points="${idx.map((i) => `${sx(s.x[i]!)},${sy(clip(s.y[i]!))}`).join(' ')}" fill="none" stroke="${c}" stroke-width="1.6"/>`)
  }
  return parts.join('\n')
}

/** Renders panels in a grid with one legend for all series labels. */
export const lineChart = (panels: readonly Panel[], opts: ChartOptions): string => {
  const cols = Math.max(1, Math.min(opts.columns ?? 2, panels.length))
  const w = opts.panelWidth ?? 380
  const h = opts.panelHeight ?? 260
  const rows = Math.ceil(panels.length / cols)
  const labels = [...new Set(panels.flatMap((p) => p.series.map((s) => s.label)))]
  const colorOf = (label: string): string => palette[labels.indexOf(label) % palette.length]!
  const legendRows = Math.ceil(labels.length / 4)
  const top = 30
  const width = cols * w
  const height = top + rows * h + legendRows * 18 + 10
  const body = panels.map((p, i) => panelSvg(p, (i % cols) * w, top + Math.floor(i / cols) * h, w, h, colorOf))
  const legend = labels.map((l, i) => {
    const x = 10 + (i % 4) * (width / 4)
    const y = top + rows * h + 14 + Math.floor(i / 4) * 18
    return `<line x1="${x}" x2="${x + 18}" y1="${y - 4}" y2="${y - 4}" stroke="${colorOf(l)}" stroke-width="2.5"/><text x="${x + 24}" y="${y}" font-size="11">${esc(l)}</text>`
  })
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    `<text x="${width / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${esc(opts.title)}</text>`,
    ...body,
    ...legend,
    '</svg>',
    '',
  ].join('\n')
}
