// The control plane with the real portkey-ai SDK against the release binary: virtual keys and saved configs through
// `portkey.virtualKeys.*` / `portkey.configs.*` / `portkey.apiKeys.*`, then the cookbook's resilient load balancer
// with `virtual_key` targets, saved and used by its `pc-…` ID, and inline. Which provider served, and with which
// key, is read from each mock's recorded hits.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { Portkey } from 'portkey-ai';
import { ADMIN_KEY, COOKBOOK_MESSAGES, hitCounts, pool, startStack } from './harness.mjs';

const TIMEOUT = { timeout: 120_000 };
const SECRETS = { anthropic: 'sk-ant-vault-e2e-0001', openai: 'sk-openai-vault-e2e-0002', azure: 'az-vault-e2e-0003' };

let stack;
let mocks;
let admin;

before(async () => {
  stack = await startStack(['anthropic', 'openai', 'azure']);
  mocks = stack.mocks;
  admin = client(ADMIN_KEY);
});

after(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  await stack.clearAll();
});

function client(apiKey, config) {
  return new Portkey({ apiKey, baseURL: `${stack.gateway.url}/v1`, config, maxRetries: 0 });
}

function ask(portkey) {
  return portkey.chat.completions.create({ messages: COOKBOOK_MESSAGES, model: 'gpt-3.5-turbo' });
}

/** Resolves with the HTTP status the SDK's error carries (fails if the call succeeds). */
async function statusOf(promise) {
  try {
    await promise;
  } catch (err) {
    return err.status;
  }
  assert.fail('expected the call to fail');
}

/** The three vault keys of the cookbook; returns their slugs. */
async function cookbookKeys() {
  const anthropic = await admin.virtualKeys.create({ name: 'Anthropic', provider: 'anthropic', key: SECRETS.anthropic });
  const openai = await admin.virtualKeys.create({ name: 'OpenAI', provider: 'openai', key: SECRETS.openai });
  const azure = await admin.virtualKeys.create({
    name: 'Azure OpenAI',
    provider: 'azure-openai',
    key: SECRETS.azure,
    resourceName: 'my-resource',
    deploymentName: 'gpt-35',
    apiVersion: '2024-02-01',
  });
  return { anthropic: anthropic.slug, openai: openai.slug, azure: azure.slug };
}

/** The cookbook's config verbatim, but for the virtual key slugs and a custom_host per target (the mocks). */
function cookbookConfig(keys) {
  return {
    strategy: { mode: 'loadbalance' },
    targets: [
      {
        virtual_key: keys.anthropic,
        custom_host: `${mocks.anthropic.url}/v1`,
        weight: 0.5,
        override_params: { max_tokens: 200, model: 'claude-3-opus-20240229' },
      },
      {
        strategy: { mode: 'fallback' },
        targets: [
          { virtual_key: keys.openai, custom_host: `${mocks.openai.url}/v1` },
          { virtual_key: keys.azure, custom_host: `${mocks.azure.url}/openai` },
        ],
        weight: 0.5,
      },
    ],
  };
}

/** Every hit carries the vault's key for its provider, never the Switchboard key. */
async function assertVaultKeys() {
  for (const hit of await mocks.anthropic.hits()) {
    assert.equal(hit.path, '/v1/messages');
    assert.equal(hit.headers['x-api-key'], SECRETS.anthropic);
    assert.equal(hit.body.max_tokens, 200);
  }
  for (const hit of await mocks.openai.hits()) {
    assert.equal(hit.headers.authorization, `Bearer ${SECRETS.openai}`);
  }
  for (const hit of await mocks.azure.hits()) {
    assert.equal(hit.path, '/openai/deployments/gpt-35/chat/completions');
    assert.match(hit.query, /(^|&)api-version=2024-02-01(&|$)/);
    assert.equal(hit.headers['api-key'], SECRETS.azure);
  }
  for (const mock of Object.values(mocks)) {
    for (const hit of await mock.hits()) assert.equal(hit.headers['x-portkey-api-key'], undefined);
  }
}

test('portkey.virtualKeys: create, list, retrieve, update, delete', TIMEOUT, async () => {
  const secret = 'sk-live-SDK-SECRET-123456';
  const created = await admin.virtualKeys.create({ name: 'OpenAI prod', provider: 'openai', key: secret, note: 'e2e' });
  assert.equal(created.success, true);
  assert.match(created.slug, /^openai-prod-[0-9a-f]{6}$/);
  assert.equal(created.id, created.slug);
  assert.equal(created.object, 'virtual-key');
  const { slug } = created;

  const listed = await admin.virtualKeys.list();
  assert.equal(listed.object, 'list');
  assert.ok(listed.data.some((k) => k.slug === slug));

  const got = await admin.virtualKeys.retrieve({ slug });
  assert.equal(got.name, 'OpenAI prod');
  assert.equal(got.ai_provider_name, 'openai');
  assert.equal(got.note, 'e2e');
  assert.equal(got.masked_api_key, 'sk-…3456');
  assert.equal(got.status, 'active');
  assert.ok(!Number.isNaN(Date.parse(got.created_at)), got.created_at);

  const updated = await admin.virtualKeys.update({ slug, name: 'OpenAI main', key: 'sk-live-SDK-SECRET-999999' });
  assert.equal(updated.slug, slug);
  const after = await admin.virtualKeys.retrieve({ slug });
  assert.equal(after.name, 'OpenAI main');
  assert.equal(after.masked_api_key, 'sk-…9999');
  for (const answer of [created, listed, got, updated, after]) {
    assert.ok(!JSON.stringify(answer).includes('SECRET'), `a secret came back: ${JSON.stringify(answer)}`);
  }

  const deleted = await admin.virtualKeys.delete({ slug });
  assert.equal(deleted.success, true);
  assert.equal(await statusOf(admin.virtualKeys.retrieve({ slug })), 404);
});

test('portkey.virtualKeys.create with Azure fields the SDK sends', TIMEOUT, async () => {
  const created = await admin.virtualKeys.create({
    name: 'Azure',
    provider: 'azure-openai',
    key: 'az-key-0000000000001',
    resourceName: 'res',
    deployment_config: [{ deploymentName: 'gpt-4o', apiVersion: '2024-06-01', is_default: true }],
  });
  const got = await admin.virtualKeys.retrieve({ slug: created.slug });
  assert.deepEqual(got.model_config, {
    resource_name: 'res',
    deployment_config: [{ deployment_name: 'gpt-4o', api_version: '2024-06-01', is_default: true }],
  });
  const bad = await statusOf(admin.virtualKeys.create({ name: 'x', provider: 'open-ai', key: 'k' }));
  assert.equal(bad, 400);
});

test('portkey.configs: create, retrieve, update, list, delete', TIMEOUT, async () => {
  const v1 = { provider: 'openai', api_key: 'sk-inline', custom_host: `${mocks.openai.url}/v1` };
  const created = await admin.configs.create({ name: 'Prod router', config: v1, isDefault: 0 });
  assert.match(created.slug, /^pc-prod-router-[0-9a-f]{6}$/);
  assert.equal(created.version, 1);
  const { slug } = created;

  const got = await admin.configs.retrieve({ slug });
  assert.deepEqual(got.config, v1);
  assert.equal(got.name, 'Prod router');
  assert.equal(got.status, 'active');

  const v2 = { ...v1, override_params: { model: 'gpt-4o-mini' } };
  const updated = await admin.configs.update({ slug, config: v2 });
  assert.equal(updated.version, 2);
  assert.deepEqual((await admin.configs.retrieve({ slug })).config, v2);

  const listed = await admin.configs.list();
  assert.equal(listed.object, 'list');
  assert.deepEqual(
    listed.data.filter((c) => c.slug === slug).map((c) => c.version),
    [2],
  );

  const response = await ask(client(ADMIN_KEY, slug));
  assert.equal(response.choices[0].message.content, 'Hello from openai serving gpt-4o-mini');

  assert.equal((await admin.configs.delete({ slug })).success, true);
  assert.equal(await statusOf(admin.configs.retrieve({ slug })), 404);
  const invalid = await statusOf(admin.configs.create({ name: 'bad', config: { strategy: { mode: 'roundrobin' } } }));
  assert.equal(invalid, 400);
});

test('cookbook: the resilient load balancer saved as a config, used by its ID', TIMEOUT, async () => {
  const keys = await cookbookKeys();
  const saved = await admin.configs.create({ name: 'resilient-loadbalancer', config: cookbookConfig(keys) });
  const portkey = client(ADMIN_KEY, saved.slug);

  const total = 300;
  const responses = await pool(total, 8, () => ask(portkey));
  for (const response of responses) assert.match(response.choices[0].message.content, /^Hello from (anthropic|openai) serving /);
  const counts = await hitCounts(mocks);
  assert.equal(counts.anthropic + counts.openai, total, JSON.stringify(counts));
  assert.equal(counts.azure, 0);
  const share = counts.anthropic / total;
  assert.ok(share >= 0.4 && share <= 0.6, `Anthropic share ${share} outside 0.4–0.6`);
  await assertVaultKeys();

  await stack.clearAll();
  await mocks.openai.script({ status: 503, count: -1 });
  const fallbacks = await pool(60, 4, () => ask(portkey));
  const servedByAzure = fallbacks.filter((r) => r.choices[0].message.content.startsWith('Hello from azure')).length;
  const after = await hitCounts(mocks);
  assert.ok(servedByAzure > 0, 'some requests took the fallback branch');
  assert.equal(after.azure, servedByAzure);
  assert.equal(after.anthropic + after.azure, 60);
  await assertVaultKeys();
});

test('cookbook: the same config inline, with virtual_key targets', TIMEOUT, async () => {
  const keys = await cookbookKeys();
  const portkey = client(ADMIN_KEY, cookbookConfig(keys));
  const total = 100;
  await pool(total, 8, () => ask(portkey));
  const counts = await hitCounts(mocks);
  assert.equal(counts.anthropic + counts.openai, total, JSON.stringify(counts));
  assert.ok(counts.anthropic > 0 && counts.openai > 0, JSON.stringify(counts));
  await assertVaultKeys();
});

test('a config update through the SDK routes the next request, without a restart', TIMEOUT, async () => {
  const keys = await cookbookKeys();
  const saved = await admin.configs.create({ name: 'switch', config: cookbookConfig(keys) });
  const drained = cookbookConfig(keys);
  drained.targets[0].weight = 0;
  await admin.configs.update({ slug: saved.slug, config: drained });
  await pool(40, 4, () => ask(client(ADMIN_KEY, saved.slug)));
  const counts = await hitCounts(mocks);
  assert.deepEqual(counts, { anthropic: 0, openai: 40, azure: 0 });
});

test('portkey.apiKeys: a gateway key does inference but not admin, and is refused once revoked', TIMEOUT, async () => {
  const keys = await cookbookKeys();
  const saved = await admin.configs.create({ name: 'app', config: cookbookConfig(keys) });
  const created = await admin.apiKeys.create({
    type: 'organisation',
    'sub-type': 'service',
    name: 'app',
    scopes: ['gateway'],
    defaults: { config_id: saved.slug },
  });
  assert.match(created.key, /^sb-[0-9a-f]{32}$/);
  const listed = await admin.apiKeys.list({});
  assert.ok(!JSON.stringify(listed).includes(created.key), 'the key is shown once');

  const app = client(created.key);
  const response = await ask(app);
  assert.match(response.choices[0].message.content, /^Hello from (anthropic|openai) serving /);
  assert.equal(await statusOf(app.virtualKeys.list()), 403);

  assert.equal((await admin.apiKeys.delete({ id: created.id })).success, true);
  assert.equal(await statusOf(ask(app)), 401);
});
