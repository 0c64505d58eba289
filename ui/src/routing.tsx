// What a log record says about routing, for the chips in the list and the request page.
import type { Attempt, LogRecord } from './types';

export interface Chip {
  label: string;
  kind: 'lb' | 'fallback' | 'retry' | 'skipped' | 'cache' | 'warn' | 'sticky';
  title: string;
}

export const calls = (r: LogRecord): Attempt[] =>
  (r.attempts ?? []).filter((a) => ['initial', 'retry', 'fallback'].includes(a.reason));

export const skips = (r: LogRecord): Attempt[] => (r.attempts ?? []).filter((a) => a.reason === 'skipped');

/** `config.targets[1].targets[0]` → `targets[1].targets[0]`. */
export const shortPath = (path: string | null | undefined) => (path ?? '').replace(/^config\.?/, '') || 'config';

export function chips(r: LogRecord): Chip[] {
  const out: Chip[] = [];
  if (r.strategy_mode === 'loadbalance') out.push({ label: 'Loadbalance', kind: 'lb', title: 'Loadbalance active' });
  const fallbacks = calls(r).filter((a) => a.reason === 'fallback');
  if (fallbacks.length > 0) {
    const last = fallbacks[fallbacks.length - 1];
    out.push({
      label: `Fallback → ${shortPath(last.target_path)}`,
      kind: 'fallback',
      title: `Fallback triggered ${fallbacks.length}×, last on option ${shortPath(last.target_path)}`,
    });
  }
  if (r.retry_count > 0) {
    const ok = r.status < 400;
    out.push({
      label: `Retry ×${r.retry_count}${ok ? '' : ' failed'}`,
      kind: 'retry',
      title: ok ? `Succeeded after ${r.retry_count} retries` : `Failed after ${r.retry_count} retries`,
    });
  }
  const skipped = skips(r);
  if (skipped.length > 0) {
    out.push({
      label: `Skipped ${skipped.length}`,
      kind: 'skipped',
      title: skipped.map((s) => `${shortPath(s.target_path)}: ${s.state}`).join(', '),
    });
  }
  if ((r.attempts ?? []).some((a) => a.reason === 'sticky')) out.push({ label: 'Sticky', kind: 'sticky', title: 'Sticky loadbalance' });
  if ((r.attempts ?? []).some((a) => a.reason === 'failed_open')) {
    out.push({ label: 'Failed open', kind: 'warn', title: 'Every target was unavailable; one was tried anyway' });
  }
  if (r.cache_status && r.cache_status !== 'miss' && r.cache_status !== 'disabled') {
    out.push({ label: `Cache ${r.cache_status}`, kind: 'cache', title: `Cache: ${r.cache_status}` });
  }
  return out;
}

export function Chips({ record }: { record: LogRecord }) {
  const list = chips(record);
  if (list.length === 0) return <span class="muted">—</span>;
  return (
    <ul class="chips" aria-label="Routing">
      {list.map((c) => (
        <li key={c.label} class={`chip chip-${c.kind}`} title={c.title}>
          {c.label}
        </li>
      ))}
    </ul>
  );
}
