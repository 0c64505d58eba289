// One request: what it asked for, the route it took through its config (drawn), each attempt
// on a timeline, what it cost, its bodies, feedback, and the other requests of its trace.
import { useState } from 'preact/hooks';
import { explain, get, post } from '../api';
import { Body, CopyButton, ErrorBox, Loading, useAsync, useTitle } from '../components/common';
import { ConfigTree, fromAttempts, fromConfig, type TreeNode } from '../components/tree';
import { cost, count, ms, time } from '../format';
import { calls, Chips, shortPath } from '../routing';
import { href, onLinkClick, queryString } from '../router';
import type { ConfigVersion, LogRecord, Page, VirtualKeyView } from '../types';
import { Status } from './logs';

async function loadTree(record: LogRecord, signal: AbortSignal): Promise<{ tree: TreeNode; from: string }> {
  if (record.config_slug) {
    try {
      const [versions, keys] = await Promise.all([
        get<Page<ConfigVersion>>(`/v1/configs/${encodeURIComponent(record.config_slug)}/versions`, signal),
        get<Page<VirtualKeyView>>('/v1/virtual-keys', signal).catch(() => ({ data: [] as VirtualKeyView[] })),
      ]);
      const providers = new Map(keys.data.map((k) => [k.slug, k.provider]));
      const v = versions.data.find((x) => x.version === record.config_version) ?? versions.data.find((x) => x.current);
      if (v) return { tree: fromConfig(v.config, providers), from: `saved config ${record.config_slug} version ${v.version}` };
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      // Deleted since: draw what the attempts say.
    }
  }
  return { tree: fromAttempts(record), from: 'the targets this request met (the config itself was not saved)' };
}

export function RequestPage({ id }: { id: string }) {
  useTitle('Request');
  const detail = useAsync(async (signal) => {
    const record = await get<LogRecord>(`/v1/logs/${encodeURIComponent(id)}`, signal);
    const [tree, trace] = await Promise.all([
      loadTree(record, signal),
      record.trace_id
        ? get<Page<LogRecord>>(`/v1/logs${queryString({ trace_id: record.trace_id, limit: '100' })}`, signal)
        : Promise.resolve(null),
    ]);
    return { record, tree, trace };
  }, [id]);

  if (detail.loading && !detail.data) return <Loading what="the request" />;
  if (detail.error) {
    return (
      <section>
        <h1>Request</h1>
        <ErrorBox error={detail.error} retry={detail.reload} />
        <p>
          <a href={href('/logs')} onClick={(e) => onLinkClick(e, '/logs')}>
            Back to the logs
          </a>
        </p>
      </section>
    );
  }
  const { record: r, tree, trace } = detail.data!;
  return (
    <section class="request">
      <p class="crumbs">
        <a href={href('/logs')} onClick={(e) => onLinkClick(e, '/logs')}>
          Logs
        </a>{' '}
        / request
      </p>
      <div class="page-head">
        <h1>
          Request <Status code={r.status} />
        </h1>
        <Chips record={r} />
      </div>
      {r.error && (
        <p class="error-box" role="note">
          <strong>{r.error_class ?? 'error'}:</strong> {r.error}
        </p>
      )}
      <dl class="facts">
        <Fact name="Time">{time(r.created_at)}</Fact>
        <Fact name="Trace ID">
          <span class="mono wrap">{r.trace_id ?? '—'}</span>
          {r.trace_id && <CopyButton text={r.trace_id} label="Copy trace ID" />}
        </Fact>
        <Fact name="Model requested">{r.requested_model || '—'}</Fact>
        <Fact name="Model served">{r.served_model ?? '—'}</Fact>
        <Fact name="Provider">{r.provider}</Fact>
        <Fact name="Served by">{r.target_path ? <span class="mono">{shortPath(r.target_path)}</span> : '—'}</Fact>
        <Fact name="Tokens">
          {count(r.total_tokens)} ({count(r.prompt_tokens)} prompt + {count(r.completion_tokens)} completion)
        </Fact>
        <Fact name="Cost">{r.unpriced ? 'unpriced model' : cost(r.cost_usd)}</Fact>
        <Fact name="Latency">
          {ms(r.latency_ms)}
          {r.ttfb_ms !== null && ` (first byte ${ms(r.ttfb_ms)})`}
          {r.stream && ' · stream'}
        </Fact>
        <Fact name="Config">
          {r.config_slug ? (
            <a href={href(`/configs/${r.config_slug}${queryString({ version: r.config_version ? String(r.config_version) : null })}`)} onClick={(e) => onLinkClick(e, `/configs/${r.config_slug}`)}>
              {r.config_slug}
              {r.config_version ? ` (version ${r.config_version})` : ''}
            </a>
          ) : (
            'inline or none'
          )}
        </Fact>
        <Fact name="Virtual key">
          {r.virtual_key ? (
            <a href={href(`/virtual-keys${queryString({ slug: r.virtual_key })}`)} onClick={(e) => onLinkClick(e, `/virtual-keys${queryString({ slug: r.virtual_key })}`)}>
              {r.virtual_key}
            </a>
          ) : (
            '—'
          )}
        </Fact>
        <Fact name="Request ID">
          <span class="mono wrap">{r.id}</span>
        </Fact>
      </dl>
      <h2>Route</h2>
      <p class="muted">Drawn from {tree.from}.</p>
      <ConfigTree tree={tree.tree} record={r} />
      <h2>Attempts</h2>
      <Timeline record={r} />
      <h2>Metadata</h2>
      {Object.keys(r.metadata ?? {}).length === 0 ? (
        <p class="muted">None. Send <code>x-portkey-metadata: {'{"user": "alice"}'}</code> to tag requests.</p>
      ) : (
        <dl class="facts">
          {Object.entries(r.metadata).map(([k, v]) => (
            <Fact key={k} name={k}>
              {typeof v === 'string' ? v : JSON.stringify(v)}
            </Fact>
          ))}
        </dl>
      )}
      <h2>Bodies</h2>
      <Body title="Request body" text={r.request_body} />
      <Body title="Response body" text={r.response_body} />
      {r.trace_id && <FeedbackForm traceId={r.trace_id} existing={r.feedback ?? []} />}
      {trace && <TraceList traceId={r.trace_id!} rows={trace.data} current={r.id} />}
    </section>
  );
}

function Fact({ name, children }: { name: string; children: preact.ComponentChildren }) {
  return (
    <div class="fact">
      <dt>{name}</dt>
      <dd>{children}</dd>
    </div>
  );
}

function Timeline({ record }: { record: LogRecord }) {
  const list = calls(record);
  if (list.length === 0) return <p class="muted">No upstream call was made{record.error ? `: ${record.error}` : '.'}</p>;
  const total = Math.max(record.latency_ms, ...list.map((a) => (a.start_offset_ms ?? 0) + (a.latency_ms ?? 0)), 1);
  return (
    <ol class="timeline">
      {list.map((a, i) => {
        const start = ((a.start_offset_ms ?? 0) / total) * 100;
        const width = Math.max(((a.latency_ms ?? 0) / total) * 100, 0.8);
        const ok = (a.status ?? 0) < 400 && (a.status ?? 0) > 0;
        return (
          <li key={i}>
            <div class="tl-text">
              <strong>
                {i + 1}. {a.reason}
              </strong>{' '}
              <span class="mono">{shortPath(a.target_path)}</span> · {a.provider ?? '—'} · {a.model ?? '—'} ·{' '}
              <span class={ok ? 'ok' : 'bad'}>{a.status}</span>
              {a.error_class && ` ${a.error_class}`} · {ms(a.latency_ms)}
              {a.start_offset_ms !== undefined && ` at +${a.start_offset_ms} ms`}
              {a.backoff_ms ? ` after ${a.backoff_ms} ms backoff` : ''}
            </div>
            <svg class="tl-bar" viewBox="0 0 100 4" preserveAspectRatio="none" aria-hidden="true">
              <rect x="0" y="1.5" width="100" height="1" class="tl-track" />
              <rect x={start} y="0" width={Math.min(width, 100 - start)} height="4" class={ok ? 'tl-ok' : 'tl-bad'} />
            </svg>
          </li>
        );
      })}
    </ol>
  );
}

function FeedbackForm({ traceId, existing }: { traceId: string; existing: { value: number; weight: number }[] }) {
  const [value, setValue] = useState('1');
  const [state, setState] = useState<{ kind: 'idle' | 'busy' | 'done' } | { kind: 'error'; error: unknown }>({ kind: 'idle' });
  const [saved, setSaved] = useState(existing);
  const send = async (e: Event) => {
    e.preventDefault();
    setState({ kind: 'busy' });
    try {
      await post('/v1/feedback', { trace_id: traceId, value: Number(value), weight: 1 });
      setSaved([...saved, { value: Number(value), weight: 1 }]);
      setState({ kind: 'done' });
    } catch (error) {
      setState({ kind: 'error', error });
    }
  };
  return (
    <section>
      <h2>Feedback</h2>
      {saved.length > 0 && (
        <p>
          Feedback on this trace: {saved.map((f) => (f.value > 0 ? `+${f.value}` : String(f.value))).join(', ')}
        </p>
      )}
      <form class="inline-form" onSubmit={send}>
        <label for="feedback-value">Rating (−10 to 10)</label>
        <input id="feedback-value" type="number" min={-10} max={10} step={1} value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} />
        <button type="submit" disabled={state.kind === 'busy'}>
          Send feedback
        </button>
        {state.kind === 'done' && <span role="status">Saved.</span>}
        {state.kind === 'error' && <span role="alert">{explain(state.error)}</span>}
      </form>
    </section>
  );
}

function TraceList({ traceId, rows, current }: { traceId: string; rows: LogRecord[]; current: string }) {
  const sum = (f: (r: LogRecord) => number | null) => rows.reduce((n, r) => n + (f(r) ?? 0), 0);
  return (
    <section>
      <h2>Trace {traceId}</h2>
      <p>
        {rows.length} request{rows.length === 1 ? '' : 's'} · {count(sum((r) => r.total_tokens))} tokens ·{' '}
        {cost(sum((r) => r.cost_usd))} · {ms(sum((r) => r.latency_ms))} in total
      </p>
      <table class="stack">
        <caption class="sr-only">Requests of trace {traceId}</caption>
        <thead>
          <tr>
            <th scope="col">Time</th>
            <th scope="col">Status</th>
            <th scope="col">Provider</th>
            <th scope="col">Model</th>
            <th scope="col">Tokens</th>
            <th scope="col">Cost</th>
            <th scope="col">Latency</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.id} aria-current={r.id === current ? 'true' : undefined}>
              <td data-label="Time">
                {r.id === current ? (
                  <span>{time(r.created_at)} (this one)</span>
                ) : (
                  <a href={href(`/logs/${r.id}`)} onClick={(e) => onLinkClick(e, `/logs/${r.id}`)}>
                    {time(r.created_at)}
                  </a>
                )}
              </td>
              <td data-label="Status">
                <Status code={r.status} />
              </td>
              <td data-label="Provider">{r.provider}</td>
              <td data-label="Model">{r.served_model ?? r.requested_model}</td>
              <td data-label="Tokens" class="num">{count(r.total_tokens)}</td>
              <td data-label="Cost" class="num">{cost(r.cost_usd)}</td>
              <td data-label="Latency" class="num">{ms(r.latency_ms)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
