// Virtual keys: provider credentials kept in the gateway's vault under a slug. The secret is
// sent once and never shown again (only its hint); Azure and Anthropic get their own fields.
import { useState } from 'preact/hooks';
import { del, explain, get, post, put } from '../api';
import { Confirm, CopyButton, ErrorBox, Loading, useAsync, useTitle } from '../components/common';
import { describe, draftOf, LimitFields, limitsOf, type LimitDraft } from '../components/limits';
import { isoTime } from '../format';
import type { Page, VirtualKeyView } from '../types';

export const PROVIDERS = [
  'openai', 'azure-openai', 'anthropic', 'anyscale', 'groq', 'together-ai', 'mistral-ai', 'fireworks-ai',
  'deepseek', 'openrouter', 'perplexity-ai', 'x-ai', 'ollama', 'deepinfra', 'cerebras',
];

const OPTION_NAMES: Record<string, string> = {
  custom_host: 'Base URL',
  resource_name: 'Azure resource',
  deployment_id: 'Azure deployment',
  api_version: 'API version',
  deployment_config: 'Deployments',
  anthropic_version: 'Anthropic version',
  anthropic_beta: 'Anthropic beta',
};

export function VirtualKeys() {
  useTitle('Virtual keys');
  const list = useAsync((signal) => get<Page<VirtualKeyView>>('/v1/virtual-keys', signal), []);
  const [deleting, setDeleting] = useState<VirtualKeyView | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);
  const highlight = new URLSearchParams(window.location.search).get('slug');

  const remove = async () => {
    const key = deleting!;
    setDeleting(null);
    try {
      await del(`/v1/virtual-keys/${encodeURIComponent(key.slug)}`);
      setMessage(`Deleted virtual key ${key.name}.`);
      list.reload();
    } catch (err) {
      setFailure(err);
    }
  };
  const keys = list.data?.data ?? [];
  return (
    <section>
      <div class="page-head">
        <h1>Virtual keys</h1>
      </div>
      <p class="muted">
        A virtual key keeps a provider's API key in the gateway's vault. Configs and requests name it by its ID{' '}
        (<code>virtual_key</code>, or the <code>x-portkey-virtual-key</code> header); the secret itself never leaves the
        gateway.
      </p>
      {message && <p role="status" class="notice">{message}</p>}
      {failure ? <ErrorBox error={failure} /> : null}
      {list.loading && !list.data && <Loading what="virtual keys" />}
      {list.error ? <ErrorBox error={list.error} retry={list.reload} /> : null}
      {list.data && keys.length === 0 && (
        <div class="empty">
          <h2>No virtual keys yet</h2>
          <p>Add your first provider key below; the cookbook uses three: Anthropic, OpenAI and Azure OpenAI.</p>
        </div>
      )}
      {keys.length > 0 && (
        <ul class="cards" aria-label="Virtual keys">
          {keys.map((k) => (
            <li key={k.slug} class={`card${highlight === k.slug ? ' highlight' : ''}`} aria-label={k.name}>
              <div class="card-head">
                <h2>{k.name}</h2>
                <span class={`badge ${k.status === 'active' ? 'ok' : 'warn'}`}>{k.status}</span>
              </div>
              <dl class="facts compact">
                <div class="fact">
                  <dt>ID</dt>
                  <dd>
                    <code class="wrap">{k.slug}</code> <CopyButton text={k.slug} label={`Copy ID of ${k.name}`} />
                  </dd>
                </div>
                <div class="fact">
                  <dt>Provider</dt>
                  <dd>{k.provider}</dd>
                </div>
                <div class="fact">
                  <dt>Key</dt>
                  <dd class="mono">{k.masked_api_key}</dd>
                </div>
                <div class="fact">
                  <dt>Limits</dt>
                  <dd>{describe(k.rate_limits, k.usage_limits)}</dd>
                </div>
                {Object.entries(k.model_config ?? {}).map(([name, value]) => (
                  <div class="fact" key={name}>
                    <dt>{OPTION_NAMES[name] ?? name}</dt>
                    <dd class="wrap">{typeof value === 'string' ? value : JSON.stringify(value)}</dd>
                  </div>
                ))}
                <div class="fact">
                  <dt>Updated</dt>
                  <dd>{isoTime(k.last_updated_at)}</dd>
                </div>
              </dl>
              <div class="actions">
                <button type="button" aria-expanded={editing === k.slug} onClick={() => setEditing(editing === k.slug ? null : k.slug)} aria-label={`Edit virtual key ${k.name}`}>
                  Edit
                </button>
                <button type="button" class="danger" onClick={() => setDeleting(k)} aria-label={`Delete virtual key ${k.name}`}>
                  Delete
                </button>
              </div>
              {editing === k.slug && (
                <EditKey
                  vk={k}
                  onDone={(text) => {
                    setEditing(null);
                    setMessage(text);
                    list.reload();
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <CreateKey
        first={keys.length === 0}
        onCreated={(slug) => {
          setMessage(`Created virtual key ${slug}. Name it in a config as "virtual_key": "${slug}".`);
          list.reload();
        }}
      />
      <Confirm
        open={deleting !== null}
        title={`Delete virtual key ${deleting?.name ?? ''}?`}
        confirmLabel="Delete"
        onConfirm={remove}
        onCancel={() => setDeleting(null)}
      >
        <p>
          Requests and configs that name <code>{deleting?.slug}</code> will fail until they use another key. The secret is
          erased from the vault.
        </p>
      </Confirm>
    </section>
  );
}

interface Draft {
  name: string;
  slug: string;
  provider: string;
  key: string;
  custom_host: string;
  resource_name: string;
  deployment_id: string;
  api_version: string;
  anthropic_version: string;
  note: string;
}

const EMPTY: Draft = {
  name: '', slug: '', provider: 'openai', key: '', custom_host: '', resource_name: '', deployment_id: '',
  api_version: '', anthropic_version: '', note: '',
};

function CreateKey({ first, onCreated }: { first: boolean; onCreated: (slug: string) => void }) {
  const [d, setD] = useState<Draft>(EMPTY);
  const [limits, setLimits] = useState<LimitDraft>(draftOf(null, null));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const set = (k: keyof Draft) => (e: Event) => setD({ ...d, [k]: (e.target as HTMLInputElement).value });
  const field = (k: keyof Draft, label: string, opts: { type?: 'text' | 'password'; hint?: string; required?: boolean; placeholder?: string } = {}) => (
    <div class="field">
      <label for={`vk-${k}`}>{label}</label>
      {opts.type === 'password' ? (
        <input id={`vk-${k}`} type="password" autoComplete="off" value={d[k]} onInput={set(k)} required={opts.required} aria-describedby={opts.hint ? `vk-${k}-hint` : undefined} />
      ) : (
        <input id={`vk-${k}`} type="text" value={d[k]} onInput={set(k)} required={opts.required} placeholder={opts.placeholder} aria-describedby={opts.hint ? `vk-${k}-hint` : undefined} />
      )}
      {opts.hint && (
        <small id={`vk-${k}-hint`} class="muted">
          {opts.hint}
        </small>
      )}
    </div>
  );
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { name: d.name.trim(), provider: d.provider, key: d.key };
    if (d.slug.trim()) body.slug = d.slug.trim();
    if (d.note.trim()) body.note = d.note.trim();
    if (d.custom_host.trim()) body.custom_host = d.custom_host.trim();
    if (d.provider === 'azure-openai') {
      for (const k of ['resource_name', 'deployment_id', 'api_version'] as const) if (d[k].trim()) body[k] = d[k].trim();
    }
    if (d.provider === 'anthropic' && d.anthropic_version.trim()) body.anthropic_version = d.anthropic_version.trim();
    Object.assign(body, limitsOf(limits, null));
    try {
      const created = await post<{ slug: string }>('/v1/virtual-keys', body);
      setD(EMPTY);
      setLimits(draftOf(null, null));
      onCreated(created.slug);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <section class="card form-card">
      <h2>{first ? 'Add your first virtual key' : 'Add a virtual key'}</h2>
      <form onSubmit={submit} noValidate>
        <div class="grid">
          {field('name', 'Name', { required: true, placeholder: 'OpenAI prod' })}
          <div class="field">
            <label for="vk-provider">Provider</label>
            <select id="vk-provider" value={d.provider} onChange={set('provider')}>
              {PROVIDERS.map((p) => (
                <option key={p} value={p}>
                  {p}
                </option>
              ))}
            </select>
          </div>
          {field('key', 'Provider API key', { type: 'password', required: d.provider !== 'ollama', hint: 'Stored encrypted; shown only as a hint from now on.' })}
          {field('slug', 'ID (optional)', { placeholder: 'openai', hint: 'Lowercase letters, digits and -; generated from the name when empty.' })}
          {d.provider === 'azure-openai' && (
            <>
              {field('resource_name', 'Azure resource name', { required: true, placeholder: 'my-resource' })}
              {field('deployment_id', 'Azure deployment ID', { required: true, placeholder: 'gpt-35' })}
              {field('api_version', 'Azure API version', { required: true, placeholder: '2024-02-01' })}
            </>
          )}
          {d.provider === 'anthropic' && field('anthropic_version', 'Anthropic version (optional)', { placeholder: '2023-06-01' })}
          {field('custom_host', 'Base URL (optional)', { placeholder: 'https://…/v1', hint: "Where this key's requests go instead of the provider's default address." })}
          {field('note', 'Note (optional)')}
        </div>
        <LimitFields id="vk-new" draft={limits} onChange={setLimits} />
        {error ? (
          <p role="alert" class="field-error">
            {explain(error)}
          </p>
        ) : null}
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Adding…' : 'Add virtual key'}
        </button>
      </form>
    </section>
  );
}

function EditKey({ vk, onDone }: { vk: VirtualKeyView; onDone: (message: string) => void }) {
  const [name, setName] = useState(vk.name);
  const [secret, setSecret] = useState('');
  const [limits, setLimits] = useState<LimitDraft>(draftOf(vk.rate_limits, vk.usage_limits));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const id = `vk-edit-${vk.slug}`;
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = { name: name.trim(), ...limitsOf(limits, vk.rate_limits) };
    if (secret) body.key = secret;
    try {
      await put(`/v1/virtual-keys/${encodeURIComponent(vk.slug)}`, body);
      onDone(secret ? `Saved ${name}; its secret was replaced.` : `Saved ${name}.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form class="edit" onSubmit={submit} noValidate aria-label={`Edit ${vk.name}`}>
      <div class="grid">
        <div class="field">
          <label for={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} />
        </div>
        <div class="field">
          <label for={`${id}-secret`}>Replace the secret</label>
          <input id={`${id}-secret`} type="password" autoComplete="off" value={secret} placeholder="leave empty to keep it" onInput={(e) => setSecret((e.target as HTMLInputElement).value)} />
        </div>
      </div>
      <LimitFields id={id} draft={limits} onChange={setLimits} />
      {error ? (
        <p role="alert" class="field-error">
          {explain(error)}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={busy}>
        Save changes
      </button>
    </form>
  );
}
