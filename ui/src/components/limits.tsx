// Rate and usage limits in Portkey's shapes, as form fields: requests and tokens per minute,
// a budget in USD with its reset. Entries the form does not show (other units) are kept.
import type { Limit, UsageLimits } from '../types';

export interface LimitDraft {
  rpm: string;
  tpm: string;
  budget: string;
  reset: string;
}

export function draftOf(rate: Limit[] | null | undefined, usage: UsageLimits | null | undefined): LimitDraft {
  const find = (type: string) => rate?.find((l) => l.type === type && l.unit === 'rpm')?.value;
  const cost = usage && (usage.type === undefined || usage.type === 'cost') ? usage.credit_limit : undefined;
  return {
    rpm: find('requests')?.toString() ?? '',
    tpm: find('tokens')?.toString() ?? '',
    budget: cost?.toString() ?? '',
    reset: (usage?.periodic_reset as string) ?? '',
  };
}

/** `rate_limits` and `usage_limits` for the API (null: none). */
export function limitsOf(d: LimitDraft, rate: Limit[] | null | undefined): { rate_limits: Limit[] | null; usage_limits: UsageLimits | null } {
  const kept = (rate ?? []).filter((l) => l.unit !== 'rpm');
  const next = [...kept];
  if (d.rpm.trim()) next.push({ type: 'requests', unit: 'rpm', value: Number(d.rpm) });
  if (d.tpm.trim()) next.push({ type: 'tokens', unit: 'rpm', value: Number(d.tpm) });
  const usage: UsageLimits | null = d.budget.trim()
    ? { credit_limit: Number(d.budget), type: 'cost', ...(d.reset ? { periodic_reset: d.reset } : {}) }
    : null;
  return { rate_limits: next.length ? next : null, usage_limits: usage };
}

export function describe(rate: Limit[] | null | undefined, usage: UsageLimits | null | undefined): string {
  const parts = (rate ?? []).map((l) => `${l.value} ${l.type}/${l.unit.replace(/^r/, '').replace('pm', 'min').replace('ph', 'h').replace('pd', 'day')}`);
  if (usage?.credit_limit !== undefined) {
    const unit = usage.type === 'tokens' ? ' tokens' : ' USD';
    parts.push(`budget ${usage.credit_limit}${unit}${usage.periodic_reset ? ` ${usage.periodic_reset}` : ''}`);
  }
  return parts.join(', ') || 'none';
}

export function LimitFields({ id, draft, onChange }: { id: string; draft: LimitDraft; onChange: (d: LimitDraft) => void }) {
  const set = (k: keyof LimitDraft) => (e: Event) => onChange({ ...draft, [k]: (e.target as HTMLInputElement).value });
  return (
    <fieldset class="limits">
      <legend>Limits (empty: none)</legend>
      <div class="field">
        <label for={`${id}-rpm`}>Requests per minute</label>
        <input id={`${id}-rpm`} type="number" min={0} step={1} inputMode="numeric" value={draft.rpm} onInput={set('rpm')} />
      </div>
      <div class="field">
        <label for={`${id}-tpm`}>Tokens per minute</label>
        <input id={`${id}-tpm`} type="number" min={0} step={1} inputMode="numeric" value={draft.tpm} onInput={set('tpm')} />
      </div>
      <div class="field">
        <label for={`${id}-budget`}>Budget (USD)</label>
        <input id={`${id}-budget`} type="number" min={0} step="any" inputMode="decimal" value={draft.budget} onInput={set('budget')} />
      </div>
      <div class="field">
        <label for={`${id}-reset`}>Budget resets</label>
        <select id={`${id}-reset`} value={draft.reset} onChange={set('reset')}>
          <option value="">Never</option>
          <option value="weekly">Weekly</option>
          <option value="monthly">Monthly</option>
        </select>
      </div>
    </fieldset>
  );
}
