// Analytics: totals for a time range and, per provider / model / config / virtual key,
// charts of requests, errors, cost, tokens and p50/p99 latency over time.
import { useMemo } from 'preact/hooks';
import { get } from '../api';
import { Chart, type Series } from '../components/chart';
import { ErrorBox, Loading, useAsync, useTitle } from '../components/common';
import { cost, count, ms } from '../format';
import { href, navigate, onLinkClick, queryString } from '../router';
import type { SeriesPoint, SummaryRow } from '../types';

const RANGES: [string, string, number][] = [
  ['15m', 'Last 15 minutes', 15 * 60_000],
  ['1h', 'Last hour', 3_600_000],
  ['6h', 'Last 6 hours', 6 * 3_600_000],
  ['24h', 'Last 24 hours', 86_400_000],
  ['7d', 'Last 7 days', 7 * 86_400_000],
  ['30d', 'Last 30 days', 30 * 86_400_000],
];
const GROUPS: [string, string][] = [
  ['provider', 'Provider'],
  ['model', 'Model'],
  ['config', 'Config'],
  ['virtual_key', 'Virtual key'],
];

interface Timeseries {
  interval_ms: number;
  from: number;
  to: number;
  data: SeriesPoint[];
}

export function Analytics({ query }: { query: URLSearchParams }) {
  useTitle('Analytics');
  const range = RANGES.find(([k]) => k === query.get('range')) ?? RANGES[1];
  const groupBy = GROUPS.find(([k]) => k === query.get('group_by'))?.[0] ?? 'provider';
  const key = `${range[0]}|${groupBy}`;
  const result = useAsync(
    async (signal) => {
      // Whole minutes, so the buckets line up with the server's.
      const to = Math.ceil(Date.now() / 60_000) * 60_000;
      const from = to - range[2];
      const q = queryString({ group_by: groupBy, from: String(from), to: String(to) });
      const [series, summary] = await Promise.all([
        get<Timeseries>(`/v1/analytics/timeseries${q}`, signal),
        get<{ data: SummaryRow[] }>(`/v1/analytics/summary${q}`, signal),
      ]);
      return { series, summary: summary.data };
    },
    [key],
  );
  const set = (name: string) => (e: Event) =>
    navigate(`/analytics${queryString({ range: range[0], group_by: groupBy, [name]: (e.target as HTMLSelectElement).value })}`);

  return (
    <section>
      <div class="page-head">
        <h1>Analytics</h1>
      </div>
      <form class="filters" aria-label="Analytics range" onSubmit={(e) => e.preventDefault()}>
        <div class="field">
          <label for="a-range">Time range</label>
          <select id="a-range" value={range[0]} onChange={set('range')}>
            {RANGES.map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </div>
        <div class="field">
          <label for="a-group">Split by</label>
          <select id="a-group" value={groupBy} onChange={set('group_by')}>
            {GROUPS.map(([k, label]) => (
              <option key={k} value={k}>
                {label}
              </option>
            ))}
          </select>
        </div>
      </form>
      {result.loading && !result.data && <Loading what="analytics" />}
      {result.error ? <ErrorBox error={result.error} retry={result.reload} /> : null}
      {result.data && <Body series={result.data.series} summary={result.data.summary} groupLabel={GROUPS.find(([k]) => k === groupBy)![1]} />}
    </section>
  );
}

function Body({ series, summary, groupLabel }: { series: Timeseries; summary: SummaryRow[]; groupLabel: string }) {
  const totals = summary.reduce(
    (t, r) => ({
      requests: t.requests + r.requests,
      errors: t.errors + r.errors,
      tokens: t.tokens + r.total_tokens,
      cost: t.cost + r.cost_usd,
    }),
    { requests: 0, errors: 0, tokens: 0, cost: 0 },
  );
  const charts = useMemo(() => build(series), [series]);
  if (totals.requests === 0 && series.data.length === 0) {
    return (
      <div class="empty">
        <h2>No requests in this time range</h2>
        <p>
          Pick a longer range, or send a request (the{' '}
          <a href={href('/logs')} onClick={(e) => onLinkClick(e, '/logs')}>
            Logs
          </a>{' '}
          page has one ready to copy).
        </p>
      </div>
    );
  }
  const errorRate = totals.requests ? ((totals.errors / totals.requests) * 100).toFixed(1) : '0';
  return (
    <>
      <ul class="totals" aria-label="Totals">
        <li>
          <span class="total-label">Requests</span>
          <span class="total-value">{count(totals.requests)}</span>
        </li>
        <li>
          <span class="total-label">Errors</span>
          <span class="total-value">
            {count(totals.errors)} <small>({errorRate}%)</small>
          </span>
        </li>
        <li>
          <span class="total-label">Tokens</span>
          <span class="total-value">{count(totals.tokens)}</span>
        </li>
        <li>
          <span class="total-label">Cost</span>
          <span class="total-value">{cost(totals.cost)}</span>
        </li>
      </ul>
      <div class="charts">
        <Chart title="Requests" xs={charts.xs} series={charts.requests} bars format={(v) => count(Math.round(v))} summary={charts.sum(charts.requests, count)} />
        <Chart title="Errors" xs={charts.xs} series={charts.errors} bars format={(v) => count(Math.round(v))} summary={charts.sum(charts.errors, count)} />
        <Chart title="Cost" xs={charts.xs} series={charts.cost} bars format={cost} summary={charts.sum(charts.cost, cost)} />
        <Chart title="Tokens" xs={charts.xs} series={charts.tokens} bars format={(v) => count(Math.round(v))} summary={charts.sum(charts.tokens, count)} />
        <Chart title="Latency p50" xs={charts.xs} series={charts.p50} points format={(v) => ms(Math.round(v))} summary={`per ${groupLabel.toLowerCase()}`} />
        <Chart title="Latency p99" xs={charts.xs} series={charts.p99} points format={(v) => ms(Math.round(v))} summary={`per ${groupLabel.toLowerCase()}`} />
      </div>
      <table class="stack">
        <caption>Per {groupLabel.toLowerCase()}</caption>
        <thead>
          <tr>
            <th scope="col">{groupLabel}</th>
            <th scope="col">Requests</th>
            <th scope="col">Errors</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
            <th scope="col">p50</th>
            <th scope="col">p99</th>
          </tr>
        </thead>
        <tbody>
          {summary.map((r) => (
            <tr key={r.key ?? '(none)'}>
              <td data-label={groupLabel}>{r.key ?? '(none)'}</td>
              <td data-label="Requests" class="num">{count(r.requests)}</td>
              <td data-label="Errors" class="num">{count(r.errors)}</td>
              <td data-label="Tokens" class="num">{count(r.total_tokens)}</td>
              <td data-label="Cost" class="num">{cost(r.cost_usd)}</td>
              <td data-label="p50" class="num">{ms(r.latency_ms.p50)}</td>
              <td data-label="p99" class="num">{ms(r.latency_ms.p99)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </>
  );
}

/** Every bucket from `from` to `to` (gaps as 0, or no point for latency), one series per key. */
function build(ts: Timeseries) {
  const step = ts.interval_ms || 60_000;
  const first = Math.floor(ts.from / step) * step;
  const xs: number[] = [];
  for (let t = first; t < ts.to; t += step) xs.push(t);
  const keys = [...new Set(ts.data.map((p) => p.key ?? '(none)'))];
  const index = new Map(xs.map((x, i) => [x, i]));
  const make = (pick: (p: SeriesPoint) => number, empty: number | null): Series[] =>
    keys.map((k) => {
      const values: (number | null)[] = xs.map(() => empty);
      for (const p of ts.data) {
        if ((p.key ?? '(none)') !== k) continue;
        const i = index.get(Math.floor(p.start / step) * step);
        if (i !== undefined) values[i] = (values[i] ?? 0) + pick(p);
      }
      return { label: k, values };
    });
  const sum = (series: Series[], f: (n: number) => string) =>
    series.map((s) => `${s.label} ${f(s.values.reduce<number>((n, v) => n + (v ?? 0), 0))}`).join(', ') || 'no data';
  return {
    xs,
    requests: make((p) => p.requests, 0),
    errors: make((p) => p.errors, 0),
    cost: make((p) => p.cost_usd, 0),
    tokens: make((p) => p.total_tokens, 0),
    p50: make((p) => p.latency_ms.p50, null),
    p99: make((p) => p.latency_ms.p99, null),
    sum,
  };
}
