// Targets: every provider target the gateway has called, with its health as the router sees
// it (circuit state, cooldown, rate-limit headroom, last error), refreshed every few seconds.
import { useEffect, useState } from 'preact/hooks';
import { get } from '../api';
import { ErrorBox, Loading, useAsync, useTitle } from '../components/common';
import { count, relative, time } from '../format';
import { href, onLinkClick } from '../router';
import type { Quota, TargetHealth } from '../types';

const REFRESH_MS = 3000;

const STATES: Record<string, string> = {
  available: 'Available',
  open: 'Circuit open',
  half_open: 'Probing',
  cooling: 'Cooling down',
  no_headroom: 'No headroom',
  limited: 'Key over its limits',
};

interface HealthList {
  data: TargetHealth[];
  shared_state?: { redis: boolean; degraded: boolean };
}

export function Targets() {
  useTitle('Targets');
  const [tick, setTick] = useState(0);
  const [at, setAt] = useState<number | null>(null);
  useEffect(() => {
    const timer = setInterval(() => setTick((t) => t + 1), REFRESH_MS);
    return () => clearInterval(timer);
  }, []);
  const health = useAsync(
    async (signal) => {
      const answer = await get<HealthList>('/v1/health/targets', signal);
      setAt(Date.now());
      return answer;
    },
    [tick],
  );
  // Trouble first: unavailable targets, then the ones failing most.
  const targets = [...(health.data?.data ?? [])].sort(
    (a, b) => Number(a.state === 'available') - Number(b.state === 'available') || b.failures - a.failures || a.id.localeCompare(b.id),
  );
  return (
    <section>
      <div class="page-head">
        <h1>Targets</h1>
        {at && (
          <p class="muted" role="status">
            Live, refreshed every {REFRESH_MS / 1000} s · last at {time(at)}
          </p>
        )}
      </div>
      {health.data?.shared_state?.degraded && (
        <p class="error-box" role="alert">
          Redis is unreachable: health and limits are kept per instance until it is back.
        </p>
      )}
      {health.loading && !health.data && <Loading what="target health" />}
      {health.error ? <ErrorBox error={health.error} retry={health.reload} /> : null}
      {health.data && targets.length === 0 && (
        <div class="empty">
          <h2>No targets seen yet</h2>
          <p>
            A target appears here after the gateway has sent it a request: its provider, key, address and model, and
            whether the router will use it. Send a request (the{' '}
            <a href={href('/logs')} onClick={(e) => onLinkClick(e, '/logs')}>
              Logs
            </a>{' '}
            page has one ready to copy).
          </p>
        </div>
      )}
      {targets.length > 0 && (
        <ul class="cards" aria-label="Targets">
          {targets.map((t) => (
            <li key={t.id} class={`card target state-${t.state}`} aria-label={`${t.provider} ${t.model}`}>
              <div class="card-head">
                <h2>
                  {t.provider} · {t.model || 'any model'}
                </h2>
                <span class={`badge ${t.state === 'available' ? 'ok' : 'warn'}`}>{STATES[t.state] ?? t.state}</span>
              </div>
              <dl class="facts compact">
                <div class="fact">
                  <dt>Credential</dt>
                  <dd class="mono wrap">{t.credential}</dd>
                </div>
                <div class="fact">
                  <dt>Destination</dt>
                  <dd class="mono wrap">{t.destination}</dd>
                </div>
                <div class="fact">
                  <dt>Successes / failures</dt>
                  <dd>
                    {count(t.successes)} / {count(t.failures)}
                  </dd>
                </div>
                <div class="fact">
                  <dt>Cooldown</dt>
                  <dd>{t.cooldown_until_ms && t.cooldown_until_ms > Date.now() ? `${relative(t.cooldown_until_ms)} left` : 'none'}</dd>
                </div>
                {t.until_ms && (
                  <div class="fact">
                    <dt>Available again</dt>
                    <dd>in {relative(t.until_ms)}</dd>
                  </div>
                )}
                {!t.headroom?.requests && !t.headroom?.tokens ? (
                  <div class="fact">
                    <dt>Headroom</dt>
                    <dd class="muted">unknown (no rate-limit headers seen)</dd>
                  </div>
                ) : (
                  <>
                    <div class="fact">
                      <dt>Request headroom</dt>
                      <dd>{quota(t.headroom?.requests)}</dd>
                    </div>
                    <div class="fact">
                      <dt>Token headroom</dt>
                      <dd>{quota(t.headroom?.tokens)}</dd>
                    </div>
                  </>
                )}
                <div class="fact">
                  <dt>Recent error</dt>
                  <dd>{t.last_error ? `${t.last_error}${t.last_status ? ` (${t.last_status})` : ''}` : 'none'}</dd>
                </div>
              </dl>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

function quota(q: Quota | null | undefined): string {
  if (!q) return 'unknown';
  const of = q.limit !== null ? ` of ${count(q.limit)}` : '';
  const reset = q.reset_at_ms ? `, resets in ${relative(q.reset_at_ms)}` : '';
  return `${count(q.remaining)}${of} left${reset}`;
}
