// Configs: the saved routing configs, each with its ID to copy into `x-portkey-config`.
import { get } from '../api';
import { CopyButton, ErrorBox, Loading, useAsync, useTitle } from '../components/common';
import { isoTime } from '../format';
import { href, onLinkClick } from '../router';
import type { ConfigView, Page } from '../types';

export function Configs() {
  useTitle('Configs');
  const list = useAsync((signal) => get<Page<ConfigView>>('/v1/configs', signal), []);
  return (
    <section>
      <div class="page-head">
        <h1>Configs</h1>
        <a class="button primary" href={href('/configs/new')} onClick={(e) => onLinkClick(e, '/configs/new')}>
          New config
        </a>
      </div>
      <p class="muted">
        A saved config is a routing config (loadbalance, fallback, retries…) that requests name by its ID in the{' '}
        <code>x-portkey-config</code> header or the SDK's <code>config</code> option. Every save is a new version.
      </p>
      {list.loading && !list.data && <Loading what="configs" />}
      {list.error ? <ErrorBox error={list.error} retry={list.reload} /> : null}
      {list.data && list.data.data.length === 0 && (
        <div class="empty">
          <h2>No configs yet</h2>
          <p>
            Start from the cookbook's loadbalance with a nested fallback:{' '}
            <a href={href('/configs/new')} onClick={(e) => onLinkClick(e, '/configs/new')}>
              create a config
            </a>
            .
          </p>
        </div>
      )}
      {list.data && list.data.data.length > 0 && (
        <table class="stack">
          <caption class="sr-only">Saved configs</caption>
          <thead>
            <tr>
              <th scope="col">Name</th>
              <th scope="col">ID</th>
              <th scope="col">Version</th>
              <th scope="col">Updated</th>
            </tr>
          </thead>
          <tbody>
            {list.data.data.map((c) => (
              <tr key={c.id}>
                <td data-label="Name">
                  <a href={href(`/configs/${c.slug}`)} onClick={(e) => onLinkClick(e, `/configs/${c.slug}`)}>
                    {c.name}
                  </a>
                </td>
                <td data-label="ID">
                  <code class="wrap">{c.slug}</code> <CopyButton text={c.slug} label={`Copy ID of ${c.name}`} />
                </td>
                <td data-label="Version" class="num">{c.version}</td>
                <td data-label="Updated">{isoTime(c.last_updated_at)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}
