// Create or edit a saved config: a JSON editor checked by the gateway's own validator as you
// type (each error listed with its path and its line marked), the versions with a diff
// between any two, and the snippets that use the config.
import { useEffect, useMemo, useState } from 'preact/hooks';
import { explain, get, post, put } from '../api';
import { ErrorBox, Loading, Snippet, useAsync, useDebounced, useTitle } from '../components/common';
import { isoTime } from '../format';
import { lineForPath, locate, syntaxLine } from '../jsonpath';
import { href, navigate, onLinkClick, queryString } from '../router';
import type { ConfigVersion, ConfigView, Page, ValidationError, VirtualKeyView } from '../types';

/** The cookbook's config, with the virtual keys this gateway has where their providers match. */
function cookbook(keys: VirtualKeyView[]): string {
  const pick = (provider: string, fallback: string) => keys.find((k) => k.provider === provider)?.slug ?? fallback;
  return JSON.stringify(
    {
      strategy: { mode: 'loadbalance' },
      targets: [
        { virtual_key: pick('anthropic', 'anthropic'), weight: 0.5, override_params: { max_tokens: 200, model: 'claude-3-opus-20240229' } },
        {
          strategy: { mode: 'fallback' },
          targets: [{ virtual_key: pick('openai', 'openai') }, { virtual_key: pick('azure-openai', 'azure') }],
          weight: 0.5,
        },
      ],
    },
    null,
    2,
  );
}

interface Check {
  state: 'idle' | 'checking' | 'valid' | 'invalid' | 'failed';
  errors: (ValidationError & { line: number | null })[];
  failure?: unknown;
}

export function ConfigEditor({ slug, query }: { slug: string | null; query: URLSearchParams }) {
  useTitle(slug ? `Config ${slug}` : 'New config');
  const loaded = useAsync(
    async (signal) => {
      if (!slug) {
        const keys = await get<Page<VirtualKeyView>>('/v1/virtual-keys', signal).catch(() => ({ data: [] as VirtualKeyView[] }));
        return { slug, config: null as ConfigView | null, text: cookbook(keys.data), name: '' };
      }
      const config = await get<ConfigView>(`/v1/configs/${encodeURIComponent(slug)}`, signal);
      return { slug, config, text: JSON.stringify(config.config, null, 2), name: config.name };
    },
    [slug],
  );
  if (loaded.error) return <ErrorBox error={loaded.error} retry={loaded.reload} />;
  // Until this config's own data is in (not the page's previous one).
  if (!loaded.data || loaded.data.slug !== slug) return <Loading what="the config" />;
  return <Editor key={slug ?? 'new'} slug={slug} initial={loaded.data!} query={query} onSaved={loaded.reload} />;
}

function Editor(props: {
  slug: string | null;
  initial: { config: ConfigView | null; text: string; name: string };
  query: URLSearchParams;
  onSaved: () => void;
}) {
  const [name, setName] = useState(props.initial.name);
  const [text, setText] = useState(props.initial.text);
  const [check, setCheck] = useState<Check>({ state: 'idle', errors: [] });
  const [save, setSave] = useState<{ state: 'idle' | 'busy' | 'done' } | { state: 'error'; error: unknown }>({ state: 'idle' });
  const settled = useDebounced(text, 350);

  useEffect(() => {
    const ctrl = new AbortController();
    let parsed: unknown;
    try {
      parsed = JSON.parse(settled);
    } catch (err) {
      setCheck({ state: 'invalid', errors: [{ path: 'config', message: `not valid JSON: ${(err as Error).message}`, line: syntaxLine(settled, err as Error) }] });
      return;
    }
    setCheck((c) => ({ ...c, state: 'checking' }));
    post<{ valid: boolean; errors: ValidationError[] }>('/v1/configs/validate', { config: parsed })
      .then((answer) => {
        if (ctrl.signal.aborted) return;
        const map = locate(settled);
        const errors = answer.errors.map((e) => ({ ...e, line: lineForPath(settled, e.path, map) }));
        setCheck({ state: answer.valid ? 'valid' : 'invalid', errors });
      })
      .catch((failure) => !ctrl.signal.aborted && setCheck({ state: 'failed', errors: [], failure }));
    return () => ctrl.abort();
  }, [settled]);

  const lines = text.split('\n');
  const bad = new Set(check.errors.map((e) => e.line).filter((l): l is number => l !== null));

  const submit = async (e: Event) => {
    e.preventDefault();
    let config: unknown;
    try {
      config = JSON.parse(text);
    } catch (err) {
      setSave({ state: 'error', error: new Error(`The config is not valid JSON: ${(err as Error).message}`) });
      return;
    }
    if (!name.trim()) {
      setSave({ state: 'error', error: new Error('Give the config a name.') });
      return;
    }
    setSave({ state: 'busy' });
    try {
      if (props.slug) {
        await put(`/v1/configs/${encodeURIComponent(props.slug)}`, { name: name.trim(), config });
        setSave({ state: 'done' });
        props.onSaved();
      } else {
        const created = await post<{ slug: string }>('/v1/configs', { name: name.trim(), config });
        navigate(`/configs/${created.slug}`, true);
      }
    } catch (error) {
      setSave({ state: 'error', error });
    }
  };

  return (
    <section>
      <p class="crumbs">
        <a href={href('/configs')} onClick={(e) => onLinkClick(e, '/configs')}>
          Configs
        </a>{' '}
        / {props.slug ?? 'new'}
      </p>
      <h1>{props.slug ? `Edit ${props.initial.name}` : 'New config'}</h1>
      <form class="editor-form" onSubmit={submit} noValidate>
        <div class="field">
          <label for="config-name">Name</label>
          <input id="config-name" value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} required />
        </div>
        <div class="field">
          <label for="config-json">Config (JSON)</label>
          <div class="editor">
            <pre class="gutter" aria-hidden="true">
              {lines.map((_, i) => (
                <span key={i} class={bad.has(i + 1) ? 'bad-line' : undefined}>
                  {i + 1}
                  {'\n'}
                </span>
              ))}
            </pre>
            <textarea
              id="config-json"
              spellcheck={false}
              rows={Math.max(lines.length + 1, 8)}
              value={text}
              onInput={(e) => setText((e.target as HTMLTextAreaElement).value)}
              aria-invalid={check.state === 'invalid' ? 'true' : undefined}
              aria-describedby="config-check"
            />
          </div>
        </div>
        <div id="config-check">
          {check.state === 'checking' && <p role="status">Checking…</p>}
          {check.state === 'valid' && (
            <p role="status" class="ok">
              Valid: the gateway accepts this config.
            </p>
          )}
          {check.state === 'failed' && <ErrorBox error={check.failure} />}
          {check.errors.length > 0 && (
            <ul class="problems" role="alert" aria-label="Problems in the config">
              {check.errors.map((e, i) => (
                <li key={i}>
                  <code>{e.path}</code>: {e.message}
                  {e.line !== null && <span class="muted"> (line {e.line})</span>}
                </li>
              ))}
            </ul>
          )}
        </div>
        <div class="actions">
          <button type="submit" class="primary" disabled={save.state === 'busy'}>
            {props.slug ? 'Save new version' : 'Create config'}
          </button>
          {save.state === 'done' && <span role="status">Saved.</span>}
          {save.state === 'error' && (
            <span role="alert" class="field-error">
              {explain(save.error)}
            </span>
          )}
        </div>
      </form>
      {props.slug && props.initial.config && (
        <>
          <Usage slug={props.slug} />
          <Versions slug={props.slug} current={props.initial.config.version} query={props.query} />
        </>
      )}
    </section>
  );
}

function Usage({ slug }: { slug: string }) {
  const origin = window.location.origin;
  const header = `x-portkey-config: ${slug}`;
  const sdk = `import { Portkey } from 'portkey-ai';

const portkey = new Portkey({
  apiKey: process.env.SWITCHBOARD_API_KEY,  // a Switchboard API key
  baseURL: '${origin}/v1',
  config: '${slug}',
});

const response = await portkey.chat.completions.create(
  { messages: [{ role: 'user', content: 'What are 7 wonders in the world?' }], model: 'gpt-3.5-turbo' },
  { traceID: 'request-loadbalance-fallback' },
);
console.log(response.choices[0].message.content);`;
  return (
    <section>
      <h2>Use it</h2>
      <p>Send the ID as a header with any client:</p>
      <Snippet code={header} label="x-portkey-config header" />
      <p>
        Or with the <code>portkey-ai</code> SDK (the cookbook's code, with this gateway's address):
      </p>
      <Snippet code={sdk} label="SDK snippet" />
    </section>
  );
}

interface Diff {
  from: number;
  to: number;
  lines: { op: 'equal' | 'delete' | 'insert'; old: number | null; new: number | null; text: string }[];
}

function Versions({ slug, current, query }: { slug: string; current: number; query: URLSearchParams }) {
  const list = useAsync((signal) => get<Page<ConfigVersion>>(`/v1/configs/${encodeURIComponent(slug)}/versions`, signal), [slug, current]);
  const versions = useMemo(() => [...(list.data?.data ?? [])].sort((a, b) => b.version - a.version), [list.data]);
  const [from, setFrom] = useState<number | null>(null);
  const [to, setTo] = useState<number | null>(null);
  const shownFrom = from ?? (query.get('version') ? Number(query.get('version')) : Math.max(1, current - 1));
  const shownTo = to ?? current;
  const diff = useAsync(
    (signal) =>
      versions.length > 1 && shownFrom !== shownTo
        ? get<Diff>(`/v1/configs/${encodeURIComponent(slug)}/diff${queryString({ from: String(shownFrom), to: String(shownTo) })}`, signal)
        : Promise.resolve(null),
    [slug, shownFrom, shownTo, versions.length],
  );
  if (list.loading && !list.data) return <Loading what="versions" />;
  if (list.error) return <ErrorBox error={list.error} retry={list.reload} />;
  const select = (id: string, label: string, value: number, set: (n: number) => void) => (
    <div class="field">
      <label for={id}>{label}</label>
      <select id={id} value={String(value)} onChange={(e) => set(Number((e.target as HTMLSelectElement).value))}>
        {versions.map((v) => (
          <option key={v.version} value={String(v.version)}>
            Version {v.version}
            {v.current ? ' (current)' : ''}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <section>
      <h2>Versions</h2>
      <ul class="versions">
        {versions.map((v) => (
          <li key={v.version}>
            Version {v.version}
            {v.current ? ' (current)' : ''} · {isoTime(v.created_at)}
          </li>
        ))}
      </ul>
      {versions.length < 2 ? (
        <p class="muted">Save a change to compare versions.</p>
      ) : (
        <>
          <form class="filters" aria-label="Compare versions" onSubmit={(e) => e.preventDefault()}>
            {select('diff-from', 'From version', shownFrom, setFrom)}
            {select('diff-to', 'To version', shownTo, setTo)}
          </form>
          {diff.error ? <ErrorBox error={diff.error} retry={diff.reload} /> : null}
          {shownFrom === shownTo && <p class="muted">Pick two different versions.</p>}
          {diff.data && (
            <div class="diff" role="table" aria-label={`Changes from version ${diff.data.from} to ${diff.data.to}`}>
              {diff.data.lines.map((l, i) => (
                <div key={i} role="row" class={`diff-${l.op}`}>
                  <span role="cell" class="ln">{l.old ?? ''}</span>
                  <span role="cell" class="ln">{l.new ?? ''}</span>
                  <span role="cell" class="op">{l.op === 'insert' ? '+' : l.op === 'delete' ? '−' : ' '}</span>
                  <span role="cell" class="text">{l.text}</span>
                </div>
              ))}
            </div>
          )}
        </>
      )}
    </section>
  );
}
