// Logs, the landing page: every request newest first, filtered by what the URL's query says
// (so a filtered view is a link to share, and the back button undoes a filter), paged by the
// API's cursor, with a live tail over SSE and exports of the same filter.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { get } from '../api';
import { ErrorBox, Loading, useAsync, useTitle } from '../components/common';
import { FirstRequest, NoMatch } from './logs_empty';
import { cost, count, ms, time } from '../format';
import { Chips } from '../routing';
import { href, navigate, onLinkClick, queryString } from '../router';
import type { LogRecord, Page } from '../types';

/** Filters as they appear in the dashboard's URL. */
const FILTER_KEYS = ['trace_id', 'status', 'provider', 'model', 'virtual_key', 'config', 'metadata', 'range', 'from', 'to', 'limit'] as const;
type Filters = Partial<Record<(typeof FILTER_KEYS)[number], string>>;

export const RANGES: [string, string, number | null][] = [
  ['', 'All time', null],
  ['15m', 'Last 15 minutes', 15 * 60_000],
  ['1h', 'Last hour', 3_600_000],
  ['24h', 'Last 24 hours', 86_400_000],
  ['7d', 'Last 7 days', 7 * 86_400_000],
  ['30d', 'Last 30 days', 30 * 86_400_000],
  ['custom', 'Between…', null],
];

/** A `datetime-local` value (local time) as Unix ms; NaN when empty or unreadable. */
const localMs = (value: string | undefined) => (value ? new Date(value).getTime() : NaN);

const COLUMNS = ['Time', 'Trace ID', 'Status', 'Provider', 'Model', 'Tokens', 'Cost', 'Latency', 'Routing'] as const;
type Column = (typeof COLUMNS)[number];
const COLUMNS_KEY = 'switchboard.logs.hidden-columns';

function readFilters(query: URLSearchParams): Filters {
  const f: Filters = {};
  for (const k of FILTER_KEYS) {
    const v = query.get(k);
    if (v) f[k] = v;
  }
  return f;
}

/** The logs API's query for the dashboard's filters (metadata `a=b, c=d` → `metadata.a=b&metadata.c=d`). */
export function apiQuery(f: Filters, extra: Record<string, string> = {}): string {
  const q = new URLSearchParams();
  for (const k of ['trace_id', 'status', 'provider', 'model', 'virtual_key', 'config', 'limit'] as const) {
    if (f[k]) q.set(k, f[k]!.trim());
  }
  for (const pair of (f.metadata ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) q.set(`metadata.${pair.slice(0, at).trim()}`, pair.slice(at + 1).trim());
  }
  const range = RANGES.find(([k]) => k === f.range)?.[2];
  if (range) q.set('from', String(Date.now() - range));
  if (f.range === 'custom') {
    const from = localMs(f.from);
    const to = localMs(f.to);
    if (!Number.isNaN(from)) q.set('from', String(from));
    if (!Number.isNaN(to)) q.set('to', String(to));
  }
  for (const [k, v] of Object.entries(extra)) q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function hiddenColumns(): Set<Column> {
  try {
    return new Set(JSON.parse(localStorage.getItem(COLUMNS_KEY) ?? '[]'));
  } catch {
    return new Set();
  }
}

export function Logs({ query }: { query: URLSearchParams }) {
  useTitle('Logs');
  const filters = readFilters(query);
  const cursor = query.get('cursor');
  const key = query.toString();
  const [live, setLive] = useState(false);
  const [tailed, setTailed] = useState<LogRecord[]>([]);
  const [gap, setGap] = useState(0);
  const [tailError, setTailError] = useState<string | null>(null);
  const [hidden, setHidden] = useState<Set<Column>>(hiddenColumns);
  const suggestions = useSuggestions();
  const page = useAsync(
    (signal) => get<Page<LogRecord>>(`/v1/logs${apiQuery({ limit: '50', ...filters }, cursor ? { cursor } : {})}`, signal),
    [key],
  );
  useEffect(() => setTailed([]), [key]);

  useEffect(() => {
    if (!live) return;
    const { limit: _l, ...unpagedFilters } = filters;
    const source = new EventSource(`/v1/logs/tail${apiQuery(unpagedFilters)}`, { withCredentials: true });
    source.addEventListener('log', (event) => {
      const record = JSON.parse((event as MessageEvent).data) as LogRecord;
      setTailed((rows) => (rows.some((r) => r.id === record.id) ? rows : [record, ...rows].slice(0, 500)));
    });
    source.onopen = () => setTailError(null);
    source.onerror = () => {
      // EventSource reconnects by itself (resuming from the last id) unless the server refused it.
      if (source.readyState === EventSource.CLOSED) {
        setTailError('Live tail stopped: the gateway refused the stream. Reload the page (you may need to sign in again).');
        setLive(false);
      } else {
        setTailError('Live tail lost its connection; reconnecting…');
      }
    };
    source.addEventListener('gap', (event) => {
      const { skipped } = JSON.parse((event as MessageEvent).data);
      setGap((n) => n + Number(skipped ?? 0));
    });
    return () => source.close();
    // The stream depends on the filters only through `key` (the query string).
  }, [live, key]);

  const rows = useMemo(() => {
    const base = page.data?.data ?? [];
    const seen = new Set(base.map((r) => r.id));
    return [...tailed.filter((r) => !seen.has(r.id)), ...base].sort((a, b) => b.created_at - a.created_at);
  }, [page.data, tailed]);

  const setFilters = (next: Filters) => navigate(`/logs${queryString(next)}`);
  const toggleColumn = (c: Column) => {
    const next = new Set(hidden);
    if (next.has(c)) next.delete(c);
    else next.add(c);
    setHidden(next);
    localStorage.setItem(COLUMNS_KEY, JSON.stringify([...next]));
  };
  const filtered = Object.keys(filters).some((k) => k !== 'limit');
  const { limit: _limit, ...unpaged } = filters;
  const exportQuery = (format: string) => `/v1/logs/export${apiQuery(unpaged, { format })}`;

  return (
    <section>
      <div class="page-head">
        <h1>Logs</h1>
        <div class="head-actions">
          <label class="switch">
            <input type="checkbox" checked={live} onChange={(e) => setLive((e.target as HTMLInputElement).checked)} />
            Live tail
          </label>
          <a class="button" href={exportQuery('csv')} download>
            Export CSV
          </a>
          <a class="button" href={exportQuery('ndjson')} download>
            Export NDJSON
          </a>
        </div>
      </div>
      <FilterForm key={key} filters={filters} onApply={setFilters} suggestions={suggestions} />
      {rows.length > 0 && (
      <details class="columns">
        <summary>Columns</summary>
        <fieldset>
          <legend>Columns to show</legend>
          {COLUMNS.map((c) => (
            <label key={c} class="check">
              <input type="checkbox" checked={!hidden.has(c)} onChange={() => toggleColumn(c)} />
              {c}
            </label>
          ))}
        </fieldset>
      </details>
      )}
      {live && (
        <p class="notice" role="status">
          Live: new requests appear at the top as they are logged.
          {gap > 0 && ` ${gap} records went by too fast to show; reload the page to see them all.`}
        </p>
      )}
      {tailError && (
        <p class="error-box" role="alert">
          {tailError}
        </p>
      )}
      {page.loading && !page.data && <Loading what="logs" />}
      {page.error ? <ErrorBox error={page.error} retry={page.reload} /> : null}
      {page.data && rows.length === 0 && (filtered || cursor ? <NoMatch /> : <FirstRequest />)}
      {rows.length > 0 && <LogTable rows={rows} hidden={hidden} busy={page.loading} />}
      {(rows.length > 0 || cursor) && (
      <nav class="pager" aria-label="Pages">
        <div class="field inline">
          <label for="f-limit">Rows per page</label>
          <select id="f-limit" value={filters.limit ?? '50'} onChange={(e) => setFilters({ ...filters, limit: (e.target as HTMLSelectElement).value })}>
            {['10', '25', '50', '100', '250'].map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </div>
        {cursor && (
          <a href={href(`/logs${queryString(filters)}`)} onClick={(e) => onLinkClick(e, `/logs${queryString(filters)}`)}>
            Newest
          </a>
        )}
        {page.data?.next_cursor && (
          <a
            href={href(`/logs${queryString({ ...filters, cursor: page.data.next_cursor })}`)}
            onClick={(e) => onLinkClick(e, `/logs${queryString({ ...filters, cursor: page.data!.next_cursor })}`)}
          >
            Older
          </a>
        )}
      </nav>
      )}
    </section>
  );
}

/** Suggestions for the virtual key and config filters (the lists may be empty; typing still works). */
function useSuggestions() {
  const found = useAsync(async (signal) => {
    const [keys, configs] = await Promise.all([
      get<Page<{ slug: string; name: string }>>('/v1/virtual-keys', signal).catch(() => ({ data: [] })),
      get<Page<{ slug: string; name: string }>>('/v1/configs', signal).catch(() => ({ data: [] })),
    ]);
    return { keys: keys.data, configs: configs.data };
  }, []);
  return found.data ?? { keys: [], configs: [] };
}

type Suggestions = ReturnType<typeof useSuggestions>;

function FilterForm(props: { filters: Filters; onApply: (f: Filters) => void; suggestions: Suggestions }) {
  const { filters, onApply, suggestions } = props;
  const [draft, setDraft] = useState<Filters>(filters);
  const set = (k: keyof Filters) => (e: Event) => setDraft({ ...draft, [k]: (e.target as HTMLInputElement).value });
  const setNow = (k: keyof Filters) => (e: Event) => {
    const next = { ...draft, [k]: (e.target as HTMLSelectElement).value };
    if (k === 'range' && next.range !== 'custom') {
      delete next.from;
      delete next.to;
    }
    setDraft(next);
    // "Between…" waits for its dates and the Apply button.
    if (!(k === 'range' && next.range === 'custom')) onApply(next);
  };
  const submit = (e: Event) => {
    e.preventDefault();
    onApply(draft);
  };
  const text = (k: keyof Filters, label: string, placeholder: string, list?: string) => (
    <div class="field">
      <label for={`f-${k}`}>{label}</label>
      <input id={`f-${k}`} type="search" value={draft[k] ?? ''} onInput={set(k)} placeholder={placeholder} list={list} />
    </div>
  );
  const active = Object.keys(filters).filter((k) => k !== 'limit' && k !== 'from' && k !== 'to').length;
  // Open on a wide screen; on a phone the rows come first and the filters fold away.
  const [wide] = useState(() => window.matchMedia('(min-width: 761px)').matches);
  return (
    <details class="filter-panel" open={wide}>
      <summary>Filters{active > 0 ? ` (${active} active)` : ''}</summary>
    <form class="filters" onSubmit={submit} role="search" aria-label="Filter logs">
      {text('trace_id', 'Trace ID', 'request-loadbalance-fallback')}
      <div class="field">
        <label for="f-status">Status</label>
        <select id="f-status" value={draft.status ?? ''} onChange={setNow('status')}>
          <option value="">Any</option>
          <option value="2xx">Success (2xx)</option>
          <option value="4xx">Client errors (4xx)</option>
          <option value="429">Rate limited (429)</option>
          <option value="5xx">Server errors (5xx)</option>
          <option value="error">Any error (≥ 400)</option>
        </select>
      </div>
      {text('provider', 'Provider', 'openai')}
      {text('model', 'Model', 'gpt-4o-mini')}
      {text('virtual_key', 'Virtual key', 'openai-prod', 'virtual-key-ids')}
      {text('config', 'Config', 'pc-…', 'config-ids')}
      <datalist id="virtual-key-ids">
        {suggestions.keys.map((k) => (
          <option key={k.slug} value={k.slug}>
            {k.name}
          </option>
        ))}
      </datalist>
      <datalist id="config-ids">
        {suggestions.configs.map((c) => (
          <option key={c.slug} value={c.slug}>
            {c.name}
          </option>
        ))}
      </datalist>
      {text('metadata', 'Metadata key=value', 'user=alice, team=search')}
      <div class="field">
        <label for="f-range">Time range</label>
        <select id="f-range" value={draft.range ?? ''} onChange={setNow('range')}>
          {RANGES.map(([k, label]) => (
            <option key={k} value={k}>
              {label}
            </option>
          ))}
        </select>
      </div>
      {draft.range === 'custom' && (
        <>
          <div class="field">
            <label for="f-from">From</label>
            <input id="f-from" type="datetime-local" step={1} value={draft.from ?? ''} onInput={set('from')} />
          </div>
          <div class="field">
            <label for="f-to">To</label>
            <input id="f-to" type="datetime-local" step={1} value={draft.to ?? ''} onInput={set('to')} />
          </div>
        </>
      )}
      <div class="field actions">
        <button type="submit" class="primary">
          Apply filters
        </button>
        <button type="button" onClick={() => onApply({})}>
          Clear
        </button>
      </div>
    </form>
    </details>
  );
}

function LogTable({ rows, hidden, busy }: { rows: LogRecord[]; hidden: Set<Column>; busy: boolean }) {
  const show = (c: Column) => !hidden.has(c);
  return (
    <table class={`logs stack${busy ? ' busy' : ''}`} aria-busy={busy ? 'true' : undefined}>
      <caption class="sr-only">Requests, newest first</caption>
      <thead>
        <tr>{COLUMNS.filter(show).map((c) => <th key={c} scope="col">{c}</th>)}</tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.id}>
            {show('Time') && (
              <td data-label="Time" class="nowrap">
                <a href={href(`/logs/${r.id}`)} onClick={(e) => onLinkClick(e, `/logs/${r.id}`)} aria-label={`Open request of ${time(r.created_at)}${r.trace_id ? `, trace ${r.trace_id}` : ''}`}>
                  {time(r.created_at)}
                </a>
              </td>
            )}
            {show('Trace ID') && (
              <td data-label="Trace ID" class="mono wrap wide">
                {r.trace_id ? (
                  <a href={href(`/logs${queryString({ trace_id: r.trace_id })}`)} onClick={(e) => onLinkClick(e, `/logs${queryString({ trace_id: r.trace_id })}`)} title="Show every request of this trace">
                    {r.trace_id}
                  </a>
                ) : (
                  '—'
                )}
              </td>
            )}
            {show('Status') && (
              <td data-label="Status">
                <Status code={r.status} />
              </td>
            )}
            {show('Provider') && <td data-label="Provider" class="nowrap">{r.provider}</td>}
            {show('Model') && <td data-label="Model" class="wrap">{r.served_model ?? r.requested_model}</td>}
            {show('Tokens') && <td data-label="Tokens" class="num">{count(r.total_tokens)}</td>}
            {show('Cost') && <td data-label="Cost" class="num nowrap">{r.unpriced ? 'unpriced' : cost(r.cost_usd)}</td>}
            {show('Latency') && <td data-label="Latency" class="num nowrap">{ms(r.latency_ms)}</td>}
            {show('Routing') && (
              <td data-label="Routing" class="wide">
                <Chips record={r} />
              </td>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function Status({ code }: { code: number }) {
  const kind = code >= 500 ? 'bad' : code >= 400 ? 'warn' : code === 0 ? 'muted' : 'ok';
  return <span class={`status status-${kind}`}>{code || '—'}</span>;
}
