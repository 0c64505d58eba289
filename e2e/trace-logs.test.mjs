// The cookbook's step 4: send the loadbalance + nested fallback request with
// `traceID: 'request-loadbalance-fallback'` through the portkey-ai SDK, then find it by its
// trace ID through Switchboard's logs API, with tokens, cost, model and its whole path.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Portkey } from 'portkey-ai';
import {
  ADMIN_KEY,
  COOKBOOK_MESSAGES,
  anthropicTarget,
  azureTarget,
  openaiTarget,
  startStack,
} from './harness.mjs';

let stack;

before(async () => {
  stack = await startStack(['anthropic', 'openai', 'azure']);
});

after(async () => {
  await stack?.stop();
});

/** GET a logs API path with the admin key; parsed JSON. */
async function api(path) {
  const response = await fetch(`${stack.gateway.url}${path}`, { headers: { 'x-portkey-api-key': ADMIN_KEY } });
  assert.equal(response.status, 200, await response.clone().text());
  return response.json();
}

/** The logs are written off the hot path: poll briefly until the record is there. */
async function findTrace(traceId) {
  for (let i = 0; i < 50; i += 1) {
    const page = await api(`/v1/logs?trace_id=${encodeURIComponent(traceId)}`);
    if (page.data.length > 0) return page.data;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return [];
}

test('the cookbook request is found by its trace ID with tokens, cost, model and path', async () => {
  const { anthropic, openai, azure } = stack.mocks;
  await openai.script({ status: 503, count: -1 });
  const config = {
    strategy: { mode: 'loadbalance' },
    targets: [
      { ...anthropicTarget(anthropic), weight: 0 },
      { strategy: { mode: 'fallback' }, targets: [openaiTarget(openai), azureTarget(azure)], weight: 1 },
    ],
  };
  const portkey = new Portkey({ apiKey: ADMIN_KEY, baseURL: `${stack.gateway.url}/v1`, config });
  const response = await portkey.chat.completions.create(
    { messages: COOKBOOK_MESSAGES, model: 'gpt-3.5-turbo' },
    { traceID: 'request-loadbalance-fallback' },
  );
  assert.ok(response.choices[0].message.content.length > 0);

  const records = await findTrace('request-loadbalance-fallback');
  assert.equal(records.length, 1, stack.gatewayLog());
  const log = records[0];
  assert.equal(log.trace_id, 'request-loadbalance-fallback');
  assert.equal(log.strategy_mode, 'loadbalance');
  assert.equal(log.target_path, 'config.targets[1].targets[1]');
  assert.equal(log.provider, 'azure-openai');
  assert.equal(log.status, 200);
  assert.equal(log.requested_model, 'gpt-3.5-turbo');
  assert.equal(log.prompt_tokens, response.usage.prompt_tokens);
  assert.equal(log.total_tokens, response.usage.total_tokens);
  assert.ok(log.cost_usd > 0, `priced: ${log.cost_usd}`);
  const path = log.attempts.map((a) => [a.target_path, a.status, a.reason]);
  assert.deepEqual(path, [
    ['config.targets[1].targets[0]', 503, 'initial'],
    ['config.targets[1].targets[1]', 200, 'fallback'],
  ]);

  const full = await api(`/v1/logs/${log.id}`);
  assert.equal(full.id, log.id);
  assert.match(full.request_body, /7 wonders/);
});
