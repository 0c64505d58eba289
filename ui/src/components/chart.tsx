// A uPlot time-series chart that follows its container's width and the colour scheme.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];

export interface Series {
  label: string;
  values: (number | null)[];
}

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

export function Chart(props: {
  title: string;
  /** Bucket starts, Unix ms. */
  xs: number[];
  series: Series[];
  format: (v: number) => string;
  summary: string;
  /** Draw every point (sparse series such as latency, where a lone bucket has no line). */
  points?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssVar('--text-muted', '#666');
    const grid = cssVar('--border', '#ddd');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: 200,
      series: [
        {},
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: PALETTE[i % PALETTE.length],
          width: 2,
          points: { show: props.points || props.xs.length <= 30, size: 5 },
          spanGaps: true,
          value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '—' : props.format(v)),
        })),
      ],
      axes: [axis, { ...axis, size: 76, values: (_u, ticks) => ticks.map((t) => props.format(t)) }],
      scales: { x: { time: true } },
      cursor: { drag: { x: false, y: false } },
    };
    const data = [props.xs.map((x) => x / 1000), ...props.series.map((s) => s.values)] as uPlot.AlignedData;
    const plot = new uPlot(opts, data, el);
    const observer = new ResizeObserver(() => plot.setSize({ width: Math.max(el.clientWidth, 200), height: 200 }));
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [props.xs, props.series]);
  return (
    <figure class="chart">
      <figcaption>{props.title}</figcaption>
      <div ref={box} role="img" aria-label={`${props.title}: ${props.summary}`} />
    </figure>
  );
}
