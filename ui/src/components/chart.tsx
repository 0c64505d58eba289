// A uPlot time-series chart that follows its container's width and the colour scheme.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export const PALETTE = ['#2563eb', '#d97706', '#059669', '#db2777', '#7c3aed', '#0891b2', '#65a30d', '#dc2626'];

const bars = uPlot.paths.bars!({ size: [0.7, 24] });

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
  /** Bars per bucket (counts and sums) instead of a line. */
  bars?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const text = cssVar('--text-muted', '#666');
    const grid = cssVar('--border', '#ddd');
    const axis = { stroke: text, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
    // Bars are stacked: each series is drawn at its running total, the tallest first, so every
    // segment shows; the legend and tooltip still give each series' own value.
    const order = props.series.map((_, i) => i);
    if (props.bars) order.reverse();
    const running = props.series.map((s, k) =>
      s.values.map((_, i) => props.series.slice(0, k + 1).reduce((n, t) => n + (t.values[i] ?? 0), 0)),
    );
    const opts: uPlot.Options = {
      width: Math.max(el.clientWidth, 200),
      height: 200,
      series: [
        {},
        ...order.map((i) => ({
          label: props.series[i].label,
          stroke: PALETTE[i % PALETTE.length],
          ...(props.bars ? { fill: `${PALETTE[i % PALETTE.length]}cc`, paths: bars } : {}),
          width: props.bars ? 1 : 2,
          points: { show: !props.bars && (props.points || props.xs.length <= 30), size: 5 },
          spanGaps: true,
          value: (_u: uPlot, _v: number | null, _s: number, idx: number | null) => {
            const v = idx === null || idx === undefined ? null : props.series[i].values[idx];
            return v === null || v === undefined ? '—' : props.format(v);
          },
        })),
      ],
      axes: [axis, { ...axis, size: 76, values: (_u, ticks) => ticks.map((t) => props.format(t)) }],
      scales: { x: { time: true } },
      cursor: { drag: { x: false, y: false } },
    };
    const values = order.map((i) => (props.bars ? running[i] : props.series[i].values));
    const data = [props.xs.map((x) => x / 1000), ...values] as uPlot.AlignedData;
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
