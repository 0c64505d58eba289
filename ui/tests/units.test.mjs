// Unit tests of the dashboard's pure parts (no browser, no gateway): where a validator path points in
// the editor's text, what a log record's routing chips say, and how each target of the route tree is
// marked. The TypeScript sources are bundled with esbuild (Vite's own transformer) into a temp file.

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, test } from 'node:test';
import { build } from 'esbuild';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
let dir;
let m;

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'switchboard-ui-units-'));
  const entry = join(dir, 'entry.ts');
  writeFileSync(
    entry,
    ['jsonpath', 'routing', 'components/tree'].map((f) => `export * from ${JSON.stringify(join(SRC, f))};`).join('\n'),
  );
  const outfile = join(dir, 'units.mjs');
  await build({
    entryPoints: [entry],
    bundle: true,
    format: 'esm',
    platform: 'node',
    outfile,
    jsx: 'automatic',
    jsxImportSource: 'preact',
    logLevel: 'error',
    nodePaths: [fileURLToPath(new URL('../node_modules/', import.meta.url))],
  });
  m = await import(outfile);
});

after(() => rmSync(dir, { recursive: true, force: true }));

const COOKBOOK = JSON.stringify(
  {
    strategy: { mode: 'loadbalance' },
    targets: [
      { virtual_key: 'anthropic', weight: -1, override_params: { max_tokens: 200 } },
      { strategy: { mode: 'fallback' }, targets: [{ virtual_key: 'openai' }, { virtual_key: 'azure' }], weight: 0.5 },
    ],
  },
  null,
  2,
);
const lineWith = (text, needle) => text.split('\n').findIndex((l) => l.includes(needle)) + 1;

test('a validator path points at its key\'s line', () => {
  assert.equal(m.lineForPath(COOKBOOK, 'config.targets[0].weight'), lineWith(COOKBOOK, '"weight": -1'));
  assert.equal(m.lineForPath(COOKBOOK, 'config.targets[1].targets[1].virtual_key'), lineWith(COOKBOOK, '"azure"'));
  assert.equal(m.lineForPath(COOKBOOK, 'config.strategy.mode'), lineWith(COOKBOOK, '"loadbalance"'));
});

test('a path to something missing points at its nearest parent', () => {
  assert.equal(m.lineForPath(COOKBOOK, 'config.targets[0].retry.attempts'), lineWith(COOKBOOK, '"virtual_key": "anthropic"') - 1);
  assert.equal(m.lineForPath(COOKBOOK, 'config'), 1);
  assert.equal(m.lineForPath('{"a": [1, {"b": 2}]}', 'config.a[1].b'), 1);
});

test('text that stops being JSON still locates what came before', () => {
  const text = '{\n  "targets": [\n    {"weight": 2},\n    {"weight": ';
  assert.equal(m.lineForPath(text, 'config.targets[0].weight'), 3);
  assert.equal(m.syntaxLine('{\n\n  x', new Error('Unexpected token x in JSON at position 5')), 3);
  assert.equal(m.syntaxLine('', new Error("Expected ',' (line 7 column 3)")), 7);
});

const record = (over) => ({
  status: 200,
  retry_count: 0,
  strategy_mode: 'loadbalance',
  cache_status: null,
  target_path: 'config.targets[1].targets[1]',
  attempts: [
    { reason: 'initial', target_path: 'config.targets[1].targets[0]', provider: 'openai', status: 503, latency_ms: 2, error_class: 'overloaded' },
    { reason: 'fallback', target_path: 'config.targets[1].targets[1]', provider: 'azure-openai', status: 200, latency_ms: 3 },
  ],
  ...over,
});

test('routing chips: loadbalance, fallback on which option, retries, skipped targets', () => {
  assert.deepEqual(m.chips(record({})).map((c) => c.label), ['Loadbalance', 'Fallback → targets[1].targets[1]']);
  const retried = record({
    strategy_mode: 'single',
    retry_count: 2,
    status: 502,
    attempts: [{ reason: 'skipped', target_path: 'config.targets[0]', state: 'open' }],
  });
  assert.deepEqual(m.chips(retried).map((c) => c.label), ['Retry ×2 failed', 'Skipped 1']);
  assert.match(m.chips(retried)[1].title, /targets\[0\]: open/);
});

test('each target is marked served, tried (and why the router moved on), skipped or not reached', () => {
  const r = record({ attempts: [{ reason: 'skipped', target_path: 'config.targets[0]', state: 'cooling', until_ms: null }, ...record({}).attempts] });
  assert.equal(m.markOf(r, 'config.targets[1].targets[1]').kind, 'served');
  const tried = m.markOf(r, 'config.targets[1].targets[0]');
  assert.equal(tried.kind, 'tried');
  assert.equal(tried.why, 'fell back to targets[1].targets[1]');
  assert.equal(m.markOf(r, 'config.targets[0]').kind, 'skipped');
  assert.equal(m.markOf(record({}), 'config.targets[0]').kind, 'unreached');
  const failed = record({ status: 503, attempts: [record({}).attempts[0]] });
  assert.equal(m.markOf(failed, 'config.targets[1].targets[0]').why, 'no option left; the request failed');
});

test('the tree of a saved config names each target, and the attempts alone rebuild the part met', () => {
  const tree = m.fromConfig(JSON.parse(COOKBOOK), new Map([['azure', 'azure-openai'], ['openai', 'openai']]));
  assert.equal(tree.mode, 'loadbalance');
  assert.deepEqual(tree.children.map((c) => c.path), ['config.targets[0]', 'config.targets[1]']);
  assert.equal(tree.children[1].children[1].label, 'azure (azure-openai)');
  assert.equal(tree.children[1].children[0].label, 'openai');
  const met = m.fromAttempts(record({}));
  assert.deepEqual(met.children.map((c) => c.path), ['config.targets[1]']);
  assert.deepEqual(met.children[0].children.map((c) => [c.path, c.label]), [
    ['config.targets[1].targets[0]', 'openai'],
    ['config.targets[1].targets[1]', 'azure-openai'],
  ]);
});
