/**
 * One uPlot time-series chart. uPlot draws on a canvas and keeps its own DOM, so Preact only
 * owns the container: the chart is made once, fed new data with setData, and resized with the
 * container (tablet rotation, window resize).
 */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: ReadonlyArray<number | null>;
  color: string;
  /** Drawn against a second axis on the right (a rate far smaller than the others). */
  right?: boolean;
}

const HEIGHT = 170;

export function Chart({ title, t, series, unit }: { title: string; t: readonly number[]; series: ChartSeries[]; unit: string }) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const shape = series.map((s) => s.label).join('|');

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const opts: uPlot.Options = {
      width: Math.max(200, el.clientWidth),
      height: HEIGHT,
      series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2, spanGaps: false, scale: s.right === true ? 'right' : 'y' }))],
      axes: [{}, { label: unit, size: 60, scale: 'y' }, ...(series.some((s) => s.right === true) ? [{ label: series.filter((s) => s.right === true).map((s) => s.label).join(', '), scale: 'right', side: 1 as const, size: 60, grid: { show: false } }] : [])],
      legend: { live: false },
      cursor: { drag: { x: false, y: false } },
    };
    const u = new uPlot(opts, [[...t], ...series.map((s) => [...s.values])] as uPlot.AlignedData, el);
    plot.current = u;
    const ro = new ResizeObserver(() => u.setSize({ width: Math.max(200, el.clientWidth), height: HEIGHT }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      u.destroy();
      plot.current = null;
    };
    // Rebuilt only when the set of series changes; new points go through setData below.
  }, [shape, unit]);

  useEffect(() => {
    plot.current?.setData([[...t], ...series.map((s) => [...s.values])] as uPlot.AlignedData);
  }, [t, series]);

  return (
    <figure class="chart">
      <figcaption>
        {title}
        {series.every((s) => s.values.every((v) => v === null)) ? <span class="muted"> — no data from the sources yet</span> : null}
      </figcaption>
      <div ref={box} class="chart-box" role="img" aria-label={`${title}: ${series.map((s) => `${s.label} latest ${String(s.values.at(-1) ?? 'none')}`).join('; ')}`} />
    </figure>
  );
}
