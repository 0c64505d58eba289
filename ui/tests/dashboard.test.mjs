// The dashboard in a real browser against the real gateway and mock providers: the cookbook's
// steps 2–4 done in the UI (virtual keys, a saved config, finding the fallen-back request by its
// trace ID and seeing its path), plus analytics, API keys, targets, sign-in and the phone layout.
// One stack for the whole file: the tests run in order and build on each other's data.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  ADMIN_KEY,
  COOKBOOK_MESSAGES,
  adminApi,
  eventually,
  overflow,
  unlabelled,
  screenshot,
  startBrowser,
  startStack,
  watchedPage,
} from './support.mjs';

const TIMEOUT = { timeout: 60_000 };
const TRACE = 'request-loadbalance-fallback';

let stack;
let chrome;
let context;
let page;
let origin;
let configSlug;

before(async () => {
  stack = await startStack(['openai', 'anthropic', 'azure']);
  origin = stack.gateway.url;
  chrome = await startBrowser();
  context = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
  page = await watchedPage(context, origin);
  page.setDefaultTimeout(10_000);
});

after(async () => {
  await chrome?.close();
  await stack?.stop();
});

const ui = (path) => `${origin}/ui${path}`;
const nav = (name) => page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });

test('a signed-out browser is sent to sign-in, and back where it was going after', TIMEOUT, async () => {
  const root = await fetch(`${origin}/`, { redirect: 'manual', headers: { accept: 'text/html' } });
  assert.ok([301, 302, 303, 307, 308].includes(root.status), `GET / answered ${root.status}`);
  assert.match(root.headers.get('location') ?? '', /\/ui\/?$/);

  await page.goto(ui(`/logs?trace_id=${TRACE}`));
  await page.getByLabel('API key').waitFor();
  assert.match(page.url(), /\/ui\/sign-in\?next=/);
  await screenshot(page, 'sign-in');

  await page.getByLabel('API key').fill('sb-not-a-real-key');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').waitFor();
  assert.ok((await page.getByRole('alert').textContent()).length > 0);

  await page.getByLabel('API key').fill(ADMIN_KEY);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Logs', level: 1 }).waitFor();
  assert.match(page.url(), new RegExp(`/ui/logs\\?trace_id=${TRACE}$`));
  // The key is nowhere the page can read it back.
  const stored = await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage }) + document.cookie);
  assert.ok(!stored.includes(ADMIN_KEY), 'the API key was kept in the browser');
  assert.ok(!page.url().includes(ADMIN_KEY));
});

test('no logs yet: the logs page teaches a first request at this gateway\'s address', TIMEOUT, async () => {
  await nav('Logs').click();
  await page.getByRole('heading', { name: 'No requests yet' }).waitFor();
  const snippet = await page.getByLabel('first request curl command', { exact: true }).textContent();
  assert.ok(snippet.includes(`${origin}/v1/chat/completions`), snippet);
  assert.ok(snippet.includes('x-portkey-config'), snippet);
  await screenshot(page, 'logs-empty');
});

test('create the cookbook\'s three virtual keys in the UI (Azure fields appear for Azure)', TIMEOUT, async () => {
  await nav('Virtual keys').click();
  await page.getByRole('heading', { name: 'No virtual keys yet' }).waitFor();
  const { openai, anthropic, azure } = stack.mocks;
  const add = async ({ name, provider, key, slug, baseUrl, azureFields }) => {
    await page.getByLabel('Name', { exact: true }).last().fill(name);
    await page.getByLabel('Provider', { exact: true }).selectOption(provider);
    await page.getByLabel('Provider API key').fill(key);
    await page.getByLabel('ID (optional)').fill(slug);
    if (azureFields) {
      await page.getByLabel('Azure resource name').fill('my-resource');
      await page.getByLabel('Azure deployment ID').fill('gpt-35');
      await page.getByLabel('Azure API version').fill('2024-02-01');
    } else {
      assert.equal(await page.getByLabel('Azure resource name').count(), 0, 'Azure fields shown for another provider');
    }
    await page.getByLabel('Base URL (optional)').fill(baseUrl);
    await page.getByRole('button', { name: 'Add virtual key' }).click();
    await page.getByRole('status').filter({ hasText: `Created virtual key ${slug}` }).waitFor();
  };
  await add({ name: 'Anthropic', provider: 'anthropic', key: 'sk-ant-secret-1', slug: 'anthropic', baseUrl: `${anthropic.url}/v1` });
  await add({ name: 'OpenAI', provider: 'openai', key: 'sk-openai-secret-2', slug: 'openai', baseUrl: `${openai.url}/v1` });
  await add({ name: 'Azure', provider: 'azure-openai', key: 'az-secret-3', slug: 'azure', baseUrl: `${azure.url}/openai`, azureFields: true });
  const cards = page.getByRole('list', { name: 'Virtual keys' }).getByRole('listitem');
  await cards.filter({ hasText: 'azure-openai' }).waitFor();
  assert.equal(await cards.count(), 3);
  const text = await page.getByRole('list', { name: 'Virtual keys' }).textContent();
  for (const secret of ['sk-ant-secret-1', 'sk-openai-secret-2', 'az-secret-3']) assert.ok(!text.includes(secret), 'a secret is shown');
  await screenshot(page, 'virtual-keys');
});

test('a virtual key: replace its secret, set a budget, delete it after confirming', TIMEOUT, async () => {
  await page.getByLabel('Name', { exact: true }).last().fill('Scratch key');
  await page.getByLabel('Provider', { exact: true }).selectOption('anthropic');
  await page.getByLabel('Anthropic version (optional)').waitFor();
  await page.getByLabel('Provider API key').fill('sk-ant-old-0000');
  await page.getByLabel('ID (optional)').fill('scratch');
  await page.getByRole('button', { name: 'Add virtual key' }).click();
  const card = page.getByRole('listitem', { name: 'Scratch key' });
  await card.waitFor();
  const hint = async () => (await card.getByRole('definition').nth(2).textContent()).trim();
  const before = await hint();
  assert.match(before, /^(sk-)?…/);

  await page.getByRole('button', { name: 'Edit virtual key Scratch key' }).click();
  const edit = page.getByRole('form', { name: 'Edit Scratch key' });
  await edit.getByLabel('Replace the secret').fill('sk-ant-new-9999');
  await edit.getByLabel('Budget (USD)').fill('25');
  await edit.getByLabel('Budget resets').selectOption('monthly');
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').filter({ hasText: 'its secret was replaced' }).waitFor();
  await card.getByText('budget 25 USD monthly').waitFor();
  const after = await hint();
  assert.notEqual(after, before, 'the hint did not change with the secret');
  assert.ok(!(await card.textContent()).includes('sk-ant-new-9999'));

  await page.getByRole('button', { name: 'Delete virtual key Scratch key' }).click();
  const dialog = page.getByRole('dialog', { name: 'Delete virtual key Scratch key?' });
  await dialog.getByRole('button', { name: 'Cancel' }).click();
  await dialog.waitFor({ state: 'hidden' });
  assert.equal(await card.count(), 1, 'cancel deleted the key');
  await page.getByRole('button', { name: 'Delete virtual key Scratch key' }).click();
  await dialog.getByRole('button', { name: 'Delete' }).click();
  await page.getByRole('status').filter({ hasText: 'Deleted virtual key Scratch key.' }).waitFor();
  await card.waitFor({ state: 'detached' });
  assert.equal((await adminApi(stack.gateway, '/v1/virtual-keys/scratch')).status, 404);
});

test('create the cookbook config in the editor; the validator says it is valid', TIMEOUT, async () => {
  await nav('Configs').click();
  await page.getByRole('heading', { name: 'No configs yet' }).waitFor();
  await page.getByRole('link', { name: 'New config' }).click();
  await page.getByRole('status').filter({ hasText: 'Valid' }).waitFor();
  const text = await page.getByLabel('Config (JSON)').inputValue();
  const config = JSON.parse(text);
  assert.equal(config.strategy.mode, 'loadbalance');
  assert.deepEqual(config.targets[1].targets.map((t) => t.virtual_key), ['openai', 'azure']);
  await page.getByLabel('Name', { exact: true }).fill('Cookbook');
  await page.getByRole('button', { name: 'Create config' }).click();
  await page.getByRole('heading', { name: 'Edit Cookbook' }).waitFor();
  configSlug = new URL(page.url()).pathname.split('/').pop();
  assert.match(configSlug, /^pc-cookbook-/);
  assert.equal(await page.getByLabel('x-portkey-config header', { exact: true }).textContent(), `x-portkey-config: ${configSlug}`);
  const sdk = await page.getByLabel('SDK snippet', { exact: true }).textContent();
  assert.ok(sdk.includes(`baseURL: '${origin}/v1'`) && sdk.includes(`config: '${configSlug}'`), sdk);
});

test('a bad weight shows the validator\'s error at config.targets[0].weight, marking its line', TIMEOUT, async () => {
  const editor = page.getByLabel('Config (JSON)');
  const good = await editor.inputValue();
  const bad = good.replace('"weight": 0.5', '"weight": -1');
  assert.notEqual(bad, good);
  await editor.fill(bad);
  const problems = page.getByRole('alert').filter({ hasText: 'config.targets[0].weight' });
  await problems.waitFor();
  const line = bad.split('\n').findIndex((l) => l.includes('"weight": -1')) + 1;
  assert.match(await problems.textContent(), new RegExp(`config\\.targets\\[0\\]\\.weight.*\\(line ${line}\\)`));
  assert.equal(await editor.getAttribute('aria-invalid'), 'true');
  await screenshot(page, 'config-editor-error');

  // A real change, saved as version 2, and the diff between the versions.
  await editor.fill(good.replace('"max_tokens": 200', '"max_tokens": 250'));
  await page.getByRole('status').filter({ hasText: 'Valid' }).waitFor();
  await page.getByRole('button', { name: 'Save new version' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
  await page.getByLabel('From version', { exact: true }).waitFor();
  const diff = page.getByRole('table', { name: 'Changes from version 1 to 2' });
  await diff.waitFor();
  const rows = await diff.getByRole('row').allTextContents();
  assert.ok(rows.some((r) => r.includes('−') && r.includes('"max_tokens": 200')), rows.join('\n'));
  assert.ok(rows.some((r) => r.includes('+') && r.includes('"max_tokens": 250')), rows.join('\n'));
  await screenshot(page, 'config-editor');
});

/** The cookbook's request through the saved config, from the test (as the user's own code would). */
async function cookbookRequest(traceId, apiKey = ADMIN_KEY) {
  const response = await fetch(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-portkey-api-key': apiKey,
      'x-portkey-config': configSlug,
      'x-portkey-trace-id': traceId,
    },
    body: JSON.stringify({ model: 'gpt-3.5-turbo', messages: COOKBOOK_MESSAGES }),
  });
  await response.json();
  return { status: response.status, option: response.headers.get('x-portkey-last-used-option-index') };
}

test('the cookbook\'s requests go through, one falling back from OpenAI (503) to Azure', TIMEOUT, async () => {
  await stack.mocks.openai.script({ status: 503, count: -1 });
  const options = [];
  // 50/50 between Anthropic and the fallback group: send until one has fallen back (and a few more).
  for (let i = 0; i < 40 && (options.filter((o) => o === 'config.targets[1].targets[1]').length < 1 || i < 8); i++) {
    const { status, option } = await cookbookRequest(TRACE);
    assert.equal(status, 200);
    options.push(option);
  }
  assert.ok(options.includes('config.targets[1].targets[1]'), `no request reached Azure: ${options}`);
  await cookbookRequest('another-trace');
  await eventually(async () => {
    const { body } = await adminApi(stack.gateway, `/v1/logs?trace_id=${TRACE}`);
    return body.data.length === options.length;
  }, { what: 'the log records' });
});

test('find the request by its trace ID; filters live in the URL and the back button undoes them', TIMEOUT, async () => {
  await nav('Logs').click();
  await page.getByRole('table').waitFor();
  assert.ok((await page.getByRole('row').filter({ hasText: 'another-trace' }).count()) > 0);
  await page.getByRole('searchbox', { name: 'Trace ID' }).fill(TRACE);
  await page.getByRole('searchbox', { name: 'Trace ID' }).press('Enter');
  await page.waitForURL(/trace_id=request-loadbalance-fallback/);
  await page.getByRole('row').filter({ hasText: 'another-trace' }).waitFor({ state: 'detached' });
  const rows = page.getByRole('row').filter({ hasText: TRACE });
  assert.ok((await rows.count()) >= 2);
  await page.getByRole('row').filter({ hasText: 'Fallback → targets[1].targets[1]' }).first().waitFor();
  await page.getByRole('row').filter({ hasText: 'Loadbalance' }).first().waitFor();
  await screenshot(page, 'logs');

  await page.goBack();
  await page.getByRole('row').filter({ hasText: 'another-trace' }).first().waitFor();
  assert.equal(await page.getByRole('searchbox', { name: 'Trace ID' }).inputValue(), '');
  await page.goForward();
  await page.getByRole('row').filter({ hasText: 'another-trace' }).waitFor({ state: 'detached' });
  assert.equal(await page.getByRole('searchbox', { name: 'Trace ID' }).inputValue(), TRACE);

  // Export of the same filter.
  const csv = await page.evaluate(async (href) => (await fetch(href)).text(), await page.getByRole('link', { name: 'Export CSV' }).getAttribute('href'));
  assert.ok(csv.includes(TRACE) && !csv.includes('another-trace'), csv.slice(0, 300));
});

test('the request page draws the fallback path through the config', TIMEOUT, async () => {
  const row = page.getByRole('row').filter({ hasText: 'Fallback → targets[1].targets[1]' }).first();
  await row.getByRole('link', { name: /^Open request/ }).click();
  await page.getByRole('heading', { name: 'Route' }).waitFor();
  assert.match(page.url(), /\/ui\/logs\/[^/?]+$/);
  const tree = page.getByRole('list', { name: 'Route through the config' });
  const openai = tree.getByRole('listitem', { name: 'targets[1].targets[0]: openai' });
  await openai.waitFor();
  assert.match(await openai.textContent(), /Tried: 503 overloaded.*fell back to targets\[1\]\.targets\[1\]/);
  const azure = tree.getByRole('listitem', { name: 'targets[1].targets[1]: azure (azure-openai)' });
  assert.match(await azure.textContent(), /Served: 200/);
  const anthropic = tree.getByRole('listitem', { name: /^targets\[0\]: anthropic/ });
  assert.match(await anthropic.textContent(), /Not reached/);
  const fact = (name) => page.getByRole('term').filter({ hasText: new RegExp(`^${name}$`) }).locator('xpath=following-sibling::dd');
  assert.equal((await fact('Trace ID').textContent()).replace('Copy', ''), TRACE);
  assert.equal(await fact('Model requested').textContent(), 'gpt-3.5-turbo');
  assert.equal(await fact('Model served').textContent(), 'gpt-3.5-turbo');
  assert.match(await fact('Tokens').textContent(), /^\d+ \(\d+ prompt \+ \d+ completion\)$/);
  assert.match(await fact('Cost').textContent(), /^\$\d/);
  await page.getByRole('link', { name: new RegExp(`^${configSlug} \\(version 2\\)$`) }).waitFor();
  await page.getByRole('link', { name: 'azure', exact: true }).waitFor();
  await page.getByRole('heading', { name: `Trace ${TRACE}` }).waitFor();
  await page.getByRole('heading', { name: 'Attempts' }).waitFor();
  await screenshot(page, 'request');

  await page.getByLabel('Rating (−10 to 10)').fill('5');
  await page.getByRole('button', { name: 'Send feedback' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
});

test('an inline-config request: found by metadata, its route drawn from the targets it met', TIMEOUT, async () => {
  const { openai, anthropic } = stack.mocks;
  const config = {
    strategy: { mode: 'fallback' },
    targets: [
      { provider: 'openai', api_key: 'sk-inline', custom_host: `${openai.url}/v1` },
      { provider: 'anthropic', api_key: 'sk-ant-inline', custom_host: `${anthropic.url}/v1`, override_params: { max_tokens: 100 } },
    ],
  };
  const response = await fetch(`${origin}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-portkey-api-key': ADMIN_KEY,
      'x-portkey-config': JSON.stringify(config),
      'x-portkey-trace-id': 'inline-fallback',
      'x-portkey-metadata': JSON.stringify({ team: 'search' }),
    },
    body: JSON.stringify({ model: 'claude-3-5-haiku-latest', messages: COOKBOOK_MESSAGES }),
  });
  assert.equal(response.status, 200);
  await eventually(async () => (await adminApi(stack.gateway, '/v1/logs?trace_id=inline-fallback')).body.data.length === 1, { what: 'the inline request\'s log' });

  await nav('Logs').click();
  await page.getByLabel('Metadata key=value').fill('team=search');
  await page.getByLabel('Metadata key=value').press('Enter');
  await page.waitForURL(/metadata=team%3Dsearch/);
  await page.getByRole('row').filter({ hasText: TRACE }).first().waitFor({ state: 'detached' });
  const row = page.getByRole('row').filter({ hasText: 'inline-fallback' });
  await row.waitFor();
  assert.match(await row.textContent(), /Fallback → targets\[1\]/);
  await row.getByRole('link', { name: /^Open request/ }).click();
  await page.getByText('Drawn from the targets this request met').waitFor();
  const tree = page.getByRole('list', { name: 'Route through the config' });
  assert.match(await tree.getByRole('listitem', { name: /^targets\[0\]: openai/ }).textContent(), /Tried: 503/);
  assert.match(await tree.getByRole('listitem', { name: /^targets\[1\]: anthropic/ }).textContent(), /Served: 200/);
  await page.getByRole('term').filter({ hasText: 'team' }).waitFor();
});

test('a target cooling down after a 429 is drawn as skipped, and why', TIMEOUT, async () => {
  const { openai, anthropic } = stack.mocks;
  await openai.script({ status: 429, count: 1, retry_after: 60 });
  const config = {
    strategy: { mode: 'fallback' },
    targets: [
      { provider: 'openai', api_key: 'sk-cooling', custom_host: `${openai.url}/v1` },
      { provider: 'anthropic', api_key: 'sk-ant-cooling', custom_host: `${anthropic.url}/v1`, override_params: { max_tokens: 100 } },
    ],
  };
  for (const trace of ['rate-limited', 'skipped-while-cooling']) {
    const response = await fetch(`${origin}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-portkey-api-key': ADMIN_KEY, 'x-portkey-config': JSON.stringify(config), 'x-portkey-trace-id': trace },
      body: JSON.stringify({ model: 'gpt-4o-mini', messages: COOKBOOK_MESSAGES }),
    });
    assert.equal(response.status, 200);
    await response.text();
  }
  await openai.script({ status: 503, count: -1 });
  await eventually(async () => (await adminApi(stack.gateway, '/v1/logs?trace_id=skipped-while-cooling')).body.data.length === 1, { what: 'the log' });

  await page.goto(ui('/logs?trace_id=skipped-while-cooling'));
  const row = page.getByRole('row').filter({ hasText: 'skipped-while-cooling' });
  await row.getByText('Skipped 1').waitFor();
  await row.getByRole('link', { name: /^Open request/ }).click();
  const tree = page.getByRole('list', { name: 'Route through the config' });
  await tree.waitFor();
  assert.match(await tree.getByRole('listitem', { name: /^targets\[0\]: / }).textContent(), /Skipped: cooling down after a rate limit/);
  assert.match(await tree.getByRole('listitem', { name: /^targets\[1\]: anthropic/ }).textContent(), /Served: 200/);
  await screenshot(page, 'request-skipped');
});

test('analytics shows totals and charts with data', TIMEOUT, async () => {
  await nav('Analytics').click();
  const totals = page.getByRole('list', { name: 'Totals' });
  await totals.waitFor();
  // The totals count every logged request (the last ones may still be on their way to the store).
  await eventually(async () => {
    const { body } = await adminApi(stack.gateway, '/v1/logs?limit=1000');
    if ((await totals.textContent()).includes(`Requests${body.data.length}Errors`)) return true;
    await page.reload();
    await totals.waitFor();
    return false;
  }, { what: 'totals matching the logs' });
  for (const title of ['Requests', 'Errors', 'Cost', 'Tokens', 'Latency p50', 'Latency p99']) {
    const chart = page.getByRole('figure', { name: title });
    // uPlot draws on a canvas, which has no role: the figure holding one is the chart drawn.
    await chart.locator('canvas').waitFor();
  }
  const requests = await page.getByRole('img', { name: /^Requests:/ }).getAttribute('aria-label');
  assert.match(requests, /azure-openai [1-9]/);
  await page.getByLabel('Split by').selectOption('virtual_key');
  await page.waitForURL(/group_by=virtual_key/);
  await page.getByRole('img', { name: /^Requests:.*azure/ }).waitFor();
  await page.getByLabel('Time range').selectOption('15m');
  await page.waitForURL(/range=15m/);
  await page.getByRole('img', { name: /^Requests:.*azure [1-9]/ }).waitFor();
  await screenshot(page, 'analytics');
});

test('targets shows each target identity\'s health', TIMEOUT, async () => {
  await nav('Targets').click();
  const list = page.getByRole('list', { name: 'Targets' });
  await list.waitFor();
  const openai = list.getByRole('listitem').filter({ hasText: /^openai · gpt-3\.5-turbo/ }).first();
  await openai.waitFor();
  assert.match(await openai.textContent(), /Recent error\s*overloaded/);
  await screenshot(page, 'targets');
});

test('API keys: create (shown once), edit scope and limits, revoke with a confirmation', TIMEOUT, async () => {
  await nav('API keys').click();
  const form = page.getByRole('form', { name: 'Create an API key' });
  await form.getByLabel('Name').fill('CI service');
  await form.getByLabel('Scope').selectOption('gateway');
  await form.getByRole('button', { name: 'Create API key' }).click();
  const reveal = page.getByRole('region', { name: 'New API key' });
  await reveal.waitFor();
  const key = await reveal.getByLabel('New API key value').textContent();
  assert.match(key, /^sb-[0-9a-f]{32}$/);
  await reveal.getByRole('button', { name: 'Copy the new API key' }).waitFor();
  assert.equal((await cookbookRequest('new-key-works', key)).status, 200);
  await reveal.getByRole('button', { name: 'I have copied it' }).click();
  assert.equal(await page.getByText(key).count(), 0, 'the key is still shown');

  await page.getByRole('button', { name: 'Edit API key CI service' }).click();
  const edit = page.getByRole('form', { name: 'Edit CI service' });
  await edit.getByLabel('Requests per minute').fill('100');
  await edit.getByRole('group', { name: 'Only these configs (none ticked: any)' }).getByLabel('Cookbook').check();
  await edit.getByRole('button', { name: 'Save changes' }).click();
  await page.getByRole('status').filter({ hasText: 'Saved API key CI service.' }).waitFor();
  const card = page.getByRole('listitem', { name: 'CI service' });
  await card.getByText('100 requests/min').waitFor();
  await card.getByText(configSlug, { exact: true }).waitFor();
  const stored = (await adminApi(stack.gateway, '/v1/api-keys')).body.data.find((k) => k.name === 'CI service');
  assert.deepEqual(stored.allowed_configs, [configSlug]);
  await screenshot(page, 'api-keys');

  await page.getByRole('button', { name: 'Revoke API key CI service' }).click();
  const dialog = page.getByRole('dialog', { name: 'Revoke API key CI service?' });
  await dialog.getByRole('button', { name: 'Revoke' }).click();
  await page.getByRole('status').filter({ hasText: 'Revoked API key CI service' }).waitFor();
  await card.getByText('revoked', { exact: true }).waitFor();
  assert.equal((await cookbookRequest('revoked-key', key)).status, 401);
});

test('live tail shows a new request without a reload', TIMEOUT, async () => {
  await nav('Logs').click();
  await page.getByRole('table').waitFor();
  await page.getByLabel('Live tail').check();
  await page.getByText('Live: new requests appear').waitFor();
  await new Promise((r) => setTimeout(r, 500));
  await cookbookRequest('tailed-request');
  await page.getByRole('row').filter({ hasText: 'tailed-request' }).waitFor({ timeout: 15_000 });
  await page.getByLabel('Live tail').uncheck();
});

test('pages through the logs with the cursor; each page is a URL', TIMEOUT, async () => {
  const { body } = await adminApi(stack.gateway, '/v1/logs?limit=1000');
  assert.ok(body.data.length > 10, `only ${body.data.length} logs`);
  await page.goto(ui('/logs'));
  await page.getByLabel('Rows per page').selectOption('10');
  await page.waitForURL(/limit=10/);
  const bodyRows = page.getByRole('table').getByRole('row').filter({ has: page.getByRole('cell') });
  await eventually(async () => (await bodyRows.count()) === 10, { what: '10 rows' });
  const first = await bodyRows.first().textContent();
  await page.getByRole('link', { name: 'Older' }).click();
  await page.waitForURL(/cursor=/);
  await page.getByRole('link', { name: 'Newest' }).waitFor();
  await eventually(async () => (await bodyRows.count()) === Math.min(10, body.data.length - 10), { what: 'the second page' });
  assert.notEqual(await bodyRows.first().textContent(), first);
  await page.goBack();
  await page.getByRole('link', { name: 'Newest' }).waitFor({ state: 'detached' });
  await eventually(async () => (await bodyRows.first().textContent()) === first, { what: 'the first page again' });
});

test('columns can be hidden, and stay hidden after a reload', TIMEOUT, async () => {
  await page.goto(ui('/logs'));
  const header = page.getByRole('columnheader', { name: 'Cost', exact: true });
  await header.waitFor();
  await page.getByText('Columns', { exact: true }).click();
  await page.getByRole('group', { name: 'Columns to show' }).getByLabel('Cost').uncheck();
  await header.waitFor({ state: 'detached' });
  await page.reload();
  await page.getByRole('columnheader', { name: 'Latency', exact: true }).waitFor();
  assert.equal(await header.count(), 0);
  await page.getByText('Columns', { exact: true }).click();
  await page.getByRole('group', { name: 'Columns to show' }).getByLabel('Cost').check();
  await header.waitFor();
});

const PAGES = [
  ['logs', '/logs'],
  ['analytics', '/analytics'],
  ['configs', '/configs'],
  ['virtual-keys', '/virtual-keys'],
  ['api-keys', '/api-keys'],
  ['targets', '/targets'],
];

test('phone width (375 px): no page scrolls sideways', TIMEOUT, async () => {
  const phone = await chrome.browser.newContext({ viewport: { width: 375, height: 812 }, colorScheme: 'light', isMobile: true, hasTouch: true });
  await phone.addCookies(await context.cookies());
  const p = await watchedPage(phone, origin);
  const { body } = await adminApi(stack.gateway, `/v1/logs?trace_id=${TRACE}&limit=1`);
  const pages = [...PAGES, ['request', `/logs/${body.data[0].id}`], ['config-editor', `/configs/${configSlug}`]];
  const wide = [];
  const unnamed = [];
  for (const [name, path] of pages) {
    await p.goto(ui(path));
    await p.getByRole('heading', { level: 1 }).first().waitFor();
    await p.waitForLoadState('networkidle');
    const { scrollWidth, innerWidth } = await overflow(p);
    if (scrollWidth > innerWidth) wide.push(`${name}: ${scrollWidth} > ${innerWidth}`);
    unnamed.push(...(await unlabelled(p)).map((html) => `${name}: ${html}`));
    await screenshot(p, `phone-${name}`);
    await screenshot(p, `phone-${name}-top`, { fullPage: false });
  }
  assert.deepEqual(p.problems, []);
  await phone.close();
  assert.deepEqual(wide, []);
  assert.deepEqual(unnamed, [], 'every control has a label');
});

test('dark theme follows the system', TIMEOUT, async () => {
  const dark = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 }, colorScheme: 'dark' });
  await dark.addCookies(await context.cookies());
  const p = await watchedPage(dark, origin);
  const { body } = await adminApi(stack.gateway, `/v1/logs?trace_id=${TRACE}&limit=1`);
  for (const [name, path] of [['logs', `/logs?trace_id=${TRACE}`], ['request', `/logs/${body.data[0].id}`], ['analytics', '/analytics'], ['config-editor', `/configs/${configSlug}`], ['targets', '/targets']]) {
    await p.goto(ui(path));
    await p.getByRole('heading', { level: 1 }).first().waitFor();
    await p.waitForLoadState('networkidle');
    await screenshot(p, `dark-${name}`);
  }
  const bg = await p.evaluate(() => getComputedStyle(document.body).backgroundColor);
  assert.equal(bg, 'rgb(15, 17, 21)');
  assert.deepEqual(p.problems, []);
  await dark.close();
});

test('keyboard: the navigation is reachable with Tab and shows focus', TIMEOUT, async () => {
  await page.goto(ui('/logs'));
  await page.getByRole('heading', { name: 'Logs', level: 1 }).waitFor();
  const seen = [];
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const el = document.activeElement;
      const style = getComputedStyle(el);
      return { text: el.textContent?.trim(), outline: style.outlineStyle, width: style.outlineWidth };
    });
    seen.push(focused);
  }
  const names = seen.map((s) => s.text);
  for (const name of ['Logs', 'Analytics', 'Configs', 'Virtual keys', 'API keys', 'Targets']) assert.ok(names.includes(name), `${name} not reached: ${names}`);
  const navFocus = seen.find((s) => s.text === 'Analytics');
  assert.notEqual(navFocus.outline, 'none');
});

test('a session that ends mid-work sends the next API call to sign-in, keeping the page to come back to', TIMEOUT, async () => {
  const other = await chrome.browser.newContext({ viewport: { width: 1280, height: 900 } });
  await other.addCookies(await context.cookies());
  const p = await watchedPage(other, origin);
  await p.goto(ui('/logs'));
  await p.getByRole('heading', { name: 'Logs', level: 1 }).waitFor();
  await other.clearCookies();
  await p.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Configs', exact: true }).click();
  await p.getByLabel('API key').waitFor();
  assert.match(p.url(), /\/ui\/sign-in\?next=%2Fconfigs$/);
  await p.getByLabel('API key').fill(ADMIN_KEY);
  await p.getByLabel('API key').press('Enter');
  await p.getByRole('heading', { name: 'Configs', level: 1 }).waitFor();
  await other.close();
});

test('sign out ends the session; the next page is the sign-in page', TIMEOUT, async () => {
  await page.goto(ui('/configs'));
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
  await page.goto(ui('/configs'));
  await page.getByLabel('API key').waitFor();
  assert.match(page.url(), /\/ui\/sign-in\?next=%2Fconfigs/);
  assert.deepEqual(page.problems, [], 'the browser refused something (CSP) or the page errored');
});
