// API keys: the Switchboard keys clients and this dashboard sign in with. A new key is shown
// once; after that only its hint. Scope, allow-lists and limits can be edited; revoking is final.
import { useState } from 'preact/hooks';
import { del, explain, get, post, put } from '../api';
import { Confirm, CopyButton, ErrorBox, Loading, useAsync, useTitle } from '../components/common';
import { describe, draftOf, LimitFields, limitsOf, type LimitDraft } from '../components/limits';
import { isoTime } from '../format';
import type { ApiKeyView, ConfigView, Page, VirtualKeyView } from '../types';

interface Choices {
  configs: ConfigView[];
  keys: VirtualKeyView[];
}

export function ApiKeys() {
  useTitle('API keys');
  const list = useAsync(async (signal) => {
    const [keys, configs, vks] = await Promise.all([
      get<Page<ApiKeyView>>('/v1/api-keys', signal),
      get<Page<ConfigView>>('/v1/configs', signal),
      get<Page<VirtualKeyView>>('/v1/virtual-keys', signal),
    ]);
    return { keys: keys.data, choices: { configs: configs.data, keys: vks.data } };
  }, []);
  const [created, setCreated] = useState<ApiKeyView | null>(null);
  const [revoking, setRevoking] = useState<ApiKeyView | null>(null);
  const [editing, setEditing] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const [failure, setFailure] = useState<unknown>(null);

  const revoke = async () => {
    const key = revoking!;
    setRevoking(null);
    try {
      await del(`/v1/api-keys/${encodeURIComponent(key.id)}`);
      setMessage(`Revoked API key ${key.name}. Clients using it now get 401.`);
      list.reload();
    } catch (err) {
      setFailure(err);
    }
  };
  const keys = list.data?.keys ?? [];
  return (
    <section>
      <div class="page-head">
        <h1>API keys</h1>
      </div>
      <p class="muted">
        Clients send a Switchboard API key in <code>x-portkey-api-key</code> (or <code>Authorization: Bearer</code>).
        Scope <strong>gateway</strong> may only send requests (optionally only through some configs and virtual keys);
        scope <strong>admin</strong> may also manage everything here.
      </p>
      {created?.key && (
        <div class="card reveal" role="region" aria-label="New API key">
          <h2>Copy the new key now</h2>
          <p>This is the only time it is shown. Store it in your app's secrets.</p>
          <p>
            <code class="wrap secret" aria-label="New API key value">{created.key}</code>{' '}
            <CopyButton text={created.key} label="Copy the new API key" />
          </p>
          <button type="button" onClick={() => setCreated(null)}>
            I have copied it
          </button>
        </div>
      )}
      {message && <p role="status" class="notice">{message}</p>}
      {failure ? <ErrorBox error={failure} /> : null}
      {list.loading && !list.data && <Loading what="API keys" />}
      {list.error ? <ErrorBox error={list.error} retry={list.reload} /> : null}
      {list.data && keys.length === 0 && (
        <div class="empty">
          <h2>No API keys yet</h2>
          <p>
            Only the admin key the gateway started with (<code>SWITCHBOARD_ADMIN_KEY</code>, or{' '}
            <code>switchboard-data/admin.key</code>) works so far. Give each app its own key of scope{' '}
            <strong>gateway</strong> below, so it can be limited and revoked on its own.
          </p>
        </div>
      )}
      {keys.length > 0 && (
        <ul class="cards" aria-label="API keys">
          {keys.map((k) => (
            <li key={k.id} class={`card${k.status === 'revoked' ? ' revoked' : ''}`} aria-label={k.name}>
              <div class="card-head">
                <h2>{k.name}</h2>
                <span class={`badge ${k.status === 'active' ? 'ok' : k.status === 'revoked' ? 'muted' : 'warn'}`}>{k.status}</span>
              </div>
              <dl class="facts compact">
                <div class="fact">
                  <dt>Key</dt>
                  <dd class="mono">{k.masked_api_key}</dd>
                </div>
                <div class="fact">
                  <dt>Scope</dt>
                  <dd>{k.scope}</dd>
                </div>
                {k.scope === 'gateway' && (
                  <>
                    <div class="fact">
                      <dt>Configs</dt>
                      <dd>{k.allowed_configs.length ? k.allowed_configs.join(', ') : 'any'}</dd>
                    </div>
                    <div class="fact">
                      <dt>Virtual keys</dt>
                      <dd>{k.allowed_virtual_keys.length ? k.allowed_virtual_keys.join(', ') : 'any'}</dd>
                    </div>
                  </>
                )}
                <div class="fact">
                  <dt>Default config</dt>
                  <dd>{k.default_config ?? '—'}</dd>
                </div>
                <div class="fact">
                  <dt>Limits</dt>
                  <dd>{describe(k.rate_limits, k.usage_limits)}</dd>
                </div>
                <div class="fact">
                  <dt>Created</dt>
                  <dd>{isoTime(k.created_at)}</dd>
                </div>
                {k.revoked_at && (
                  <div class="fact">
                    <dt>Revoked</dt>
                    <dd>{isoTime(k.revoked_at)}</dd>
                  </div>
                )}
              </dl>
              {k.status !== 'revoked' && (
                <div class="actions">
                  <button type="button" aria-expanded={editing === k.id} onClick={() => setEditing(editing === k.id ? null : k.id)} aria-label={`Edit API key ${k.name}`}>
                    Edit
                  </button>
                  <button type="button" class="danger" onClick={() => setRevoking(k)} aria-label={`Revoke API key ${k.name}`}>
                    Revoke
                  </button>
                </div>
              )}
              {editing === k.id && (
                <KeyForm
                  existing={k}
                  choices={list.data!.choices}
                  onDone={(key) => {
                    setEditing(null);
                    setMessage(`Saved API key ${key.name}.`);
                    list.reload();
                  }}
                />
              )}
            </li>
          ))}
        </ul>
      )}
      <section class="card form-card">
        <h2>Create an API key</h2>
        {list.data && (
          <KeyForm
            existing={null}
            choices={list.data.choices}
            onDone={(key) => {
              setCreated(key);
              setMessage(null);
              list.reload();
            }}
          />
        )}
      </section>
      <Confirm
        open={revoking !== null}
        title={`Revoke API key ${revoking?.name ?? ''}?`}
        confirmLabel="Revoke"
        onConfirm={revoke}
        onCancel={() => setRevoking(null)}
      >
        <p>Every client using it is refused from now on. This cannot be undone; create a new key to replace it.</p>
      </Confirm>
    </section>
  );
}

function KeyForm({ existing, choices, onDone }: { existing: ApiKeyView | null; choices: Choices; onDone: (k: ApiKeyView) => void }) {
  const id = existing ? `ak-${existing.id}` : 'ak-new';
  const [name, setName] = useState(existing?.name ?? '');
  const [scope, setScope] = useState<'admin' | 'gateway'>(existing?.scope ?? 'gateway');
  const [configs, setConfigs] = useState<string[]>(existing?.allowed_configs ?? []);
  const [vks, setVks] = useState<string[]>(existing?.allowed_virtual_keys ?? []);
  const [defaultConfig, setDefaultConfig] = useState(existing?.default_config ?? '');
  const [limits, setLimits] = useState<LimitDraft>(draftOf(existing?.rate_limits, existing?.usage_limits));
  const [error, setError] = useState<unknown>(null);
  const [busy, setBusy] = useState(false);
  const toggle = (list: string[], set: (l: string[]) => void, slug: string) =>
    set(list.includes(slug) ? list.filter((s) => s !== slug) : [...list, slug]);
  const submit = async (e: Event) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    const body: Record<string, unknown> = {
      name: name.trim(),
      scopes: [scope],
      allowed_configs: scope === 'gateway' ? configs : [],
      allowed_virtual_keys: scope === 'gateway' ? vks : [],
      default_config: defaultConfig || null,
      ...limitsOf(limits, existing?.rate_limits),
    };
    try {
      const answer = existing
        ? await put<ApiKeyView>(`/v1/api-keys/${encodeURIComponent(existing.id)}`, body)
        : await post<ApiKeyView>('/v1/api-keys', body);
      if (!existing) {
        setName('');
        setConfigs([]);
        setVks([]);
        setDefaultConfig('');
        setLimits(draftOf(null, null));
      }
      onDone(answer);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate aria-label={existing ? `Edit ${existing.name}` : 'Create an API key'}>
      <div class="grid">
        <div class="field">
          <label for={`${id}-name`}>Name</label>
          <input id={`${id}-name`} value={name} onInput={(e) => setName((e.target as HTMLInputElement).value)} placeholder="checkout service" />
        </div>
        <div class="field">
          <label for={`${id}-scope`}>Scope</label>
          <select id={`${id}-scope`} value={scope} onChange={(e) => setScope((e.target as HTMLSelectElement).value as 'admin' | 'gateway')}>
            <option value="gateway">gateway (send requests)</option>
            <option value="admin">admin (everything)</option>
          </select>
        </div>
        <div class="field">
          <label for={`${id}-default`}>Default config</label>
          <select id={`${id}-default`} value={defaultConfig} onChange={(e) => setDefaultConfig((e.target as HTMLSelectElement).value)}>
            <option value="">None</option>
            {choices.configs.map((c) => (
              <option key={c.slug} value={c.slug}>
                {c.name} ({c.slug})
              </option>
            ))}
          </select>
        </div>
      </div>
      {scope === 'gateway' && (choices.configs.length > 0 || choices.keys.length > 0) && (
        <div class="grid">
          {choices.configs.length > 0 && (
            <fieldset>
              <legend>Only these configs (none ticked: any)</legend>
              {choices.configs.map((c) => (
                <label key={c.slug} class="check">
                  <input type="checkbox" checked={configs.includes(c.slug)} onChange={() => toggle(configs, setConfigs, c.slug)} />
                  {c.name}
                </label>
              ))}
            </fieldset>
          )}
          {choices.keys.length > 0 && (
            <fieldset>
              <legend>Only these virtual keys (none ticked: any)</legend>
              {choices.keys.map((k) => (
                <label key={k.slug} class="check">
                  <input type="checkbox" checked={vks.includes(k.slug)} onChange={() => toggle(vks, setVks, k.slug)} />
                  {k.name}
                </label>
              ))}
            </fieldset>
          )}
        </div>
      )}
      <LimitFields id={id} draft={limits} onChange={setLimits} />
      {error ? (
        <p role="alert" class="field-error">
          {explain(error)}
        </p>
      ) : null}
      <button type="submit" class="primary" disabled={busy}>
        {existing ? 'Save changes' : 'Create API key'}
      </button>
    </form>
  );
}
