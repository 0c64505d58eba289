// A routing config drawn as a tree, each target marked with what happened to it in one request:
// served, tried (and why the router moved on), skipped (and why), or not reached.
import type { Attempt, LogRecord } from '../types';
import { shortPath } from '../routing';
import { ms, relative } from '../format';

export interface TreeNode {
  path: string;
  mode?: string;
  weight?: number;
  label: string;
  detail?: string;
  children: TreeNode[];
}

type Obj = Record<string, unknown>;

/** The tree of a saved config (the JSON the configs API returns). */
export function fromConfig(config: unknown, providers: Map<string, string> = new Map(), path = 'config', weight?: number): TreeNode {
  const c = (config && typeof config === 'object' ? config : {}) as Obj;
  const targets = Array.isArray(c.targets) ? (c.targets as Obj[]) : null;
  const strategy = (c.strategy ?? {}) as Obj;
  const w = typeof c.weight === 'number' ? c.weight : weight;
  if (targets) {
    const mode = String(strategy.mode ?? 'single');
    return {
      path,
      mode,
      weight: w,
      label: mode,
      detail: Array.isArray(strategy.on_status_codes) ? `on ${(strategy.on_status_codes as number[]).join(', ')}` : undefined,
      children: targets.map((t, i) => fromConfig(t, providers, `${path}.targets[${i}]`)),
    };
  }
  const params = (c.override_params ?? {}) as Obj;
  const who = (c.virtual_key as string) ?? (c.provider as string) ?? 'target';
  const named = (c.provider as string) ?? providers.get(c.virtual_key as string);
  const provider = c.virtual_key && named && named !== c.virtual_key ? ` (${named})` : '';
  return {
    path,
    weight: w,
    label: `${who}${provider}`,
    detail: params.model ? `model ${params.model}` : undefined,
    children: [],
  };
}

/** A tree from the paths a record's attempts name, when there is no saved config to draw. */
export function fromAttempts(record: LogRecord): TreeNode {
  const root: TreeNode = { path: 'config', mode: record.strategy_mode ?? undefined, label: record.strategy_mode ?? 'single', children: [] };
  const labels = new Map<string, string>();
  for (const a of record.attempts ?? []) {
    if (a.target_path) labels.set(a.target_path, a.provider ?? a.virtual_key ?? labels.get(a.target_path) ?? 'target');
  }
  if (record.target_path) labels.set(record.target_path, labels.get(record.target_path) ?? record.provider);
  for (const [path, provider] of labels) {
    if (path === 'config') {
      root.label = provider;
      continue;
    }
    let node = root;
    const parts = path.replace(/^config\.?/, '').match(/targets\[\d+\]/g) ?? [];
    let at = 'config';
    parts.forEach((part, i) => {
      at = `${at}.${part}`;
      let child = node.children.find((c) => c.path === at);
      if (!child) {
        child = { path: at, label: i === parts.length - 1 ? provider : 'group', children: [] };
        node.children.push(child);
        node.children.sort((a, b) => a.path.localeCompare(b.path, 'en', { numeric: true }));
      }
      node = child;
    });
  }
  return root;
}

type Mark =
  | { kind: 'served'; attempt: Attempt }
  | { kind: 'tried'; attempts: Attempt[]; why: string }
  | { kind: 'skipped'; note: Attempt }
  | { kind: 'unreached' };

const CALLS = ['initial', 'retry', 'fallback'];

export function markOf(record: LogRecord, path: string): Mark {
  const all = record.attempts ?? [];
  const calls = all.filter((a) => CALLS.includes(a.reason));
  const mine = calls.filter((a) => a.target_path === path);
  const skip = all.find((a) => a.reason === 'skipped' && a.target_path === path);
  const last = calls[calls.length - 1];
  if (mine.length > 0) {
    if (last && last.target_path === path && record.status < 400 && (last.status ?? 0) < 400) {
      return { kind: 'served', attempt: last };
    }
    const lastMine = mine[mine.length - 1];
    const next = calls[calls.indexOf(lastMine) + 1];
    const why = next
      ? next.reason === 'fallback'
        ? `fell back to ${shortPath(next.target_path)}`
        : next.reason === 'retry'
          ? `retried on ${shortPath(next.target_path)}`
          : `moved on to ${shortPath(next.target_path)}`
      : 'no option left; the request failed';
    return { kind: 'tried', attempts: mine, why };
  }
  if (skip) return { kind: 'skipped', note: skip };
  return { kind: 'unreached' };
}

const SKIP_WHY: Record<string, string> = {
  open: 'circuit open after repeated failures',
  half_open: 'circuit half-open: a probe was already in flight',
  cooling: 'cooling down after a rate limit',
  no_headroom: 'no rate-limit headroom left',
  limited: 'its key is over its limits',
  weight_zero: 'weight 0',
  unsupported: 'its provider cannot serve this endpoint',
};

function MarkText({ mark }: { mark: Mark }) {
  switch (mark.kind) {
    case 'served':
      return (
        <span class="mark mark-served">
          Served: {mark.attempt.status}, {ms(mark.attempt.latency_ms)}
        </span>
      );
    case 'tried':
      return (
        <span class="mark mark-tried">
          Tried{mark.attempts.length > 1 ? ` ${mark.attempts.length}×` : ''}:{' '}
          {mark.attempts.map((a) => `${a.status} ${a.error_class ?? ''}`.trim()).join(', ')}, {ms(mark.attempts[mark.attempts.length - 1].latency_ms)} —{' '}
          {mark.why}
        </span>
      );
    case 'skipped':
      return (
        <span class="mark mark-skipped">
          Skipped: {mark.note.why ?? SKIP_WHY[mark.note.state ?? ''] ?? mark.note.state}
          {mark.note.until_ms ? ` (for ${relative(mark.note.until_ms)})` : ''}
        </span>
      );
    default:
      return <span class="mark mark-unreached">Not reached</span>;
  }
}

function Node({ node, record }: { node: TreeNode; record: LogRecord }) {
  const leaf = node.children.length === 0;
  const mark = leaf ? markOf(record, node.path) : null;
  return (
    <li class={`node ${leaf ? `leaf leaf-${mark?.kind}` : 'group'}`} aria-label={`${shortPath(node.path)}: ${node.label}`}>
      <div class="node-box">
        <span class="node-path mono">{shortPath(node.path)}</span>
        <strong>{leaf ? node.label : <span class="chip chip-mode">{node.label}</span>}</strong>
        {node.weight !== undefined && <span class="muted"> weight {node.weight}</span>}
        {node.detail && <span class="muted"> · {node.detail}</span>}
        {mark && (
          <div>
            <MarkText mark={mark} />
          </div>
        )}
      </div>
      {!leaf && (
        <ul>
          {node.children.map((c) => (
            <Node key={c.path} node={c} record={record} />
          ))}
        </ul>
      )}
    </li>
  );
}

export function ConfigTree({ tree, record }: { tree: TreeNode; record: LogRecord }) {
  return (
    <ul class="tree" aria-label="Route through the config">
      <Node node={tree} record={record} />
    </ul>
  );
}
