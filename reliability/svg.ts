/**
 * A small hand-written SVG chart of the soak's series: panels of line plots in a grid, each
 * with its title, unit, y range (0 to a rounded maximum) and time axis in minutes. No
 * dependency; the file is plain text that renders in any browser or on GitHub.
 */

export interface Series {
  title: string;
  unit: string;
  /** Points (x in seconds since the start, y in `unit`); NaN y values leave a gap. */
  points: Array<[number, number]>;
  /** A vertical marker (seconds), e.g. the end of the warm-up. */
  marker?: number;
}

const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 0.37 -> 0.5, 730 -> 1000, 1.2e6 -> 2e6: the axis maximum above `v`. */
function niceMax(v: number): number {
  if (!(v > 0)) return 1;
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

function label(v: number): string {
  if (v === 0) return '0';
  if (Math.abs(v) >= 1e6) return `${+(v / 1e6).toFixed(1)}M`;
  if (Math.abs(v) >= 1e4) return `${+(v / 1e3).toFixed(0)}k`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  if (Math.abs(v) >= 1) return `${+v.toFixed(1)}`;
  return `${+v.toFixed(2)}`;
}

function panel(s: Series, x0: number, y0: number, w: number, h: number, tMax: number): string {
  const left = 58;
  const right = 14;
  const top = 30;
  const bottom = 34;
  const pw = w - left - right;
  const ph = h - top - bottom;
  const ys = s.points.map((p) => p[1]).filter((y) => Number.isFinite(y));
  const yMax = niceMax(ys.length > 0 ? Math.max(...ys) : 1);
  const X = (t: number): number => x0 + left + (tMax > 0 ? (t / tMax) * pw : 0);
  const Y = (v: number): number => y0 + top + ph - (v / yMax) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${x0 + left}" y="${y0 + 18}" class="title">${esc(s.title)} <tspan class="unit">(${esc(s.unit)})</tspan></text>`);
  parts.push(`<rect x="${x0 + left}" y="${y0 + top}" width="${pw}" height="${ph}" class="frame"/>`);
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    const y = Y(v);
    if (i > 0 && i < 4) parts.push(`<line x1="${x0 + left}" x2="${x0 + left + pw}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" class="grid"/>`);
    parts.push(`<text x="${x0 + left - 6}" y="${(y + 4).toFixed(1)}" class="tick" text-anchor="end">${label(v)}</text>`);
  }
  const minutes = tMax / 60;
  const step = minutes <= 2 ? 0.25 : minutes <= 5 ? 1 : minutes <= 20 ? 2 : minutes <= 60 ? 5 : 15;
  for (let m = 0; m <= minutes + 1e-9; m += step) {
    const x = X(m * 60);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y0 + top + ph}" y2="${y0 + top + ph + 4}" class="axis"/>`);
    parts.push(`<text x="${x.toFixed(1)}" y="${y0 + top + ph + 16}" class="tick" text-anchor="middle">${label(m)}</text>`);
  }
  parts.push(`<text x="${x0 + left + pw}" y="${y0 + h - 4}" class="tick" text-anchor="end">minutes</text>`);
  if (s.marker !== undefined && tMax > 0) {
    const x = X(s.marker);
    parts.push(`<line x1="${x.toFixed(1)}" x2="${x.toFixed(1)}" y1="${y0 + top}" y2="${y0 + top + ph}" class="marker"/>`);
  }
  // Line segments between finite points; a NaN breaks the line.
  let d = '';
  let pen = false;
  for (const [t, v] of s.points) {
    if (!Number.isFinite(v)) {
      pen = false;
      continue;
    }
    d += `${pen ? 'L' : 'M'}${X(t).toFixed(1)},${Y(v).toFixed(1)} `;
    pen = true;
  }
  if (d !== '') parts.push(`<path d="${d.trim()}" class="line"/>`);
  for (const [t, v] of s.points) if (Number.isFinite(v)) parts.push(`<circle cx="${X(t).toFixed(1)}" cy="${Y(v).toFixed(1)}" r="1.8" class="dot"/>`);
  return parts.join('\n');
}

/** An SVG document: `series` in a grid of `columns` panels, under `title` and a `subtitle` line. */
export function renderChart(title: string, subtitle: string, series: readonly Series[], columns = 2): string {
  const pw = 440;
  const ph = 230;
  const head = 50;
  const rows = Math.ceil(series.length / columns);
  const width = pw * columns;
  const height = head + ph * rows;
  const tMax = Math.max(1, ...series.flatMap((s) => s.points.map((p) => p[0])));
  const panels = series.map((s, i) => panel(s, (i % columns) * pw, head + Math.floor(i / columns) * ph, pw, ph, tMax));
  return `<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">
<style>
  .bg { fill: #ffffff; }
  .h1 { font-size: 15px; font-weight: bold; fill: #222; }
  .h2 { font-size: 11px; fill: #555; }
  .title { font-size: 12px; font-weight: bold; fill: #222; }
  .unit { font-weight: normal; fill: #666; }
  .tick { font-size: 10px; fill: #555; }
  .frame { fill: none; stroke: #999; stroke-width: 1; }
  .grid { stroke: #e4e4e4; stroke-width: 1; }
  .axis { stroke: #999; stroke-width: 1; }
  .marker { stroke: #d08000; stroke-width: 1; stroke-dasharray: 4 3; }
  .line { fill: none; stroke: #1f5fa8; stroke-width: 1.6; }
  .dot { fill: #1f5fa8; }
</style>
<rect width="100%" height="100%" class="bg"/>
<text x="12" y="20" class="h1">${esc(title)}</text>
<text x="12" y="38" class="h2">${esc(subtitle)}</text>
${panels.join('\n')}
</svg>
`;
}
