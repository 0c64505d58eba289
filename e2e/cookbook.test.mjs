// The "resilient loadbalance with nested fallbacks" cookbook, run with the portkey-ai SDK against the real
// gateway and mock providers. Which provider served a request is counted from each mock's recorded hits, not
// inferred from the reply text alone.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import { Portkey } from 'portkey-ai';
import {
  ADMIN_KEY,
  COOKBOOK_MESSAGES,
  anthropicTarget,
  anyscaleTarget,
  azureTarget,
  hitCounts,
  isErrorEvent,
  openaiTarget,
  pool,
  readBody,
  sseEvents,
  startStack,
} from './harness.mjs';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMEOUT = { timeout: 120_000 };
const SYSTEM_PROMPT = COOKBOOK_MESSAGES[0].content;

let stack;
let mocks;

before(async () => {
  stack = await startStack(['anthropic', 'openai', 'azure', 'anyscale']);
  mocks = stack.mocks;
});

after(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  await stack.clearAll();
});

/** The cookbook's config: 50/50 between Anthropic and an OpenAI → Azure fallback. */
function cookbookConfig({ anthropicWeight = 0.5, fallbackWeight = 0.5 } = {}) {
  return {
    strategy: { mode: 'loadbalance' },
    targets: [
      { ...anthropicTarget(mocks.anthropic), weight: anthropicWeight },
      {
        strategy: { mode: 'fallback' },
        targets: [openaiTarget(mocks.openai), azureTarget(mocks.azure)],
        weight: fallbackWeight,
      },
    ],
  };
}

function canaryConfig(canaryWeight) {
  return {
    strategy: { mode: 'loadbalance' },
    targets: [
      { ...openaiTarget(mocks.openai), weight: 1 - canaryWeight },
      { ...anyscaleTarget(mocks.anyscale), weight: canaryWeight },
    ],
  };
}

function portkey(config) {
  return new Portkey({ apiKey: ADMIN_KEY, baseURL: `${stack.gateway.url}/v1`, config });
}

function ask(client, params) {
  return client.chat.completions.create({ messages: COOKBOOK_MESSAGES, model: 'gpt-3.5-turbo' }, params);
}

function content(response) {
  return response.choices[0].message.content;
}

/** Anthropic's `system` may be a string or text blocks. */
function systemText(system) {
  return typeof system === 'string' ? system : (system ?? []).map((block) => block.text).join('');
}

function assertAnthropicHit(hit) {
  assert.equal(hit.path, '/v1/messages');
  assert.equal(hit.headers['x-api-key'], 'sk-ant');
  assert.ok(hit.headers['anthropic-version'], 'anthropic-version header sent');
  assert.equal(hit.headers['x-portkey-api-key'], undefined, 'the gateway key must not reach providers');
  assert.equal(hit.body.model, 'claude-3-opus-20240229');
  assert.equal(hit.body.max_tokens, 200);
  assert.ok(
    hit.body.messages.every((m) => m.role !== 'system'),
    `no system role: ${JSON.stringify(hit.body.messages)}`,
  );
  assert.equal(systemText(hit.body.system), SYSTEM_PROMPT, 'system prompt moved to the top level');
}

function assertOpenAiHit(hit, key, model) {
  assert.equal(hit.path, '/v1/chat/completions');
  assert.equal(hit.headers.authorization, `Bearer ${key}`);
  assert.equal(hit.headers['x-portkey-api-key'], undefined, 'the gateway key must not reach providers');
  assert.equal(hit.body.model, model);
  assert.deepEqual(hit.body.messages, COOKBOOK_MESSAGES);
}

async function collect(stream) {
  const chunks = [];
  let error = null;
  try {
    for await (const chunk of stream) chunks.push(chunk);
  } catch (err) {
    error = err;
  }
  const text = chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  const finishes = chunks.map((c) => c.choices?.[0]?.finish_reason).filter(Boolean);
  return { chunks, error, text, finishes };
}

test('(a) loadbalance splits 50/50 between Anthropic and the OpenAI→Azure fallback', TIMEOUT, async () => {
  const client = portkey(cookbookConfig());
  const total = 300;
  const responses = await pool(total, 8, () => ask(client));

  for (const response of responses) {
    assert.equal(response.choices[0].finish_reason, 'stop');
    assert.match(content(response), /^Hello from (anthropic|openai) serving /);
  }
  const counts = await hitCounts(mocks);
  assert.equal(counts.anthropic + counts.openai, total, `every request reached one provider once: ${JSON.stringify(counts)}`);
  assert.equal(counts.azure, 0, 'a healthy OpenAI never falls back');
  const share = counts.anthropic / total;
  assert.ok(share >= 0.4 && share <= 0.6, `Anthropic share ${share} outside 0.4–0.6`);
  const servedByAnthropic = responses.filter((r) => content(r).startsWith('Hello from anthropic')).length;
  assert.equal(servedByAnthropic, counts.anthropic, 'replies match the recorded hits');

  for (const hit of await mocks.anthropic.hits()) assertAnthropicHit(hit);
  for (const hit of await mocks.openai.hits()) assertOpenAiHit(hit, 'sk-a', 'gpt-3.5-turbo');
});

test('(b) a failing OpenAI falls back to Azure and the headers say so', TIMEOUT, async () => {
  await mocks.openai.script({ status: 503, count: -1 });
  const client = portkey(cookbookConfig());
  const total = 40;
  const responses = await pool(total, 4, () => ask(client));

  let servedByAzure = 0;
  for (const response of responses) {
    const headers = response.getHeaders();
    assert.ok(headers['retry-attempt-count'] !== undefined, 'x-portkey-retry-attempt-count is sent');
    if (content(response).startsWith('Hello from anthropic')) {
      assert.equal(headers['last-used-option-index'], 'config.targets[0]');
      assert.equal(headers.provider, 'anthropic');
    } else {
      servedByAzure += 1;
      assert.match(content(response), /^Hello from azure serving /);
      assert.equal(headers['last-used-option-index'], 'config.targets[1].targets[1]');
      assert.equal(headers.provider, 'azure-openai');
    }
    assert.equal(response.choices[0].finish_reason, 'stop');
  }
  const counts = await hitCounts(mocks);
  assert.ok(servedByAzure > 0, 'some requests took the fallback branch');
  assert.equal(counts.azure, servedByAzure, 'Azure served exactly the fallback requests');
  assert.equal(counts.openai, servedByAzure, 'each fallback tried OpenAI once first');
  assert.equal(counts.anthropic + counts.azure, total);

  for (const hit of await mocks.azure.hits()) {
    assert.equal(hit.path, '/openai/deployments/gpt35/chat/completions');
    assert.match(hit.query, /(^|&)api-version=2024-02-01(&|$)/);
    assert.equal(hit.headers['api-key'], 'az');
  }
});

test('(c) a 90/10 canary sends about a tenth of the traffic to Anyscale', TIMEOUT, async () => {
  const client = portkey(canaryConfig(0.1));
  const total = 400;
  const responses = await pool(total, 8, () => ask(client, { traceID: 'canary-testing' }));

  const counts = await hitCounts(mocks);
  assert.equal(counts.openai + counts.anyscale, total, JSON.stringify(counts));
  const share = counts.anyscale / total;
  assert.ok(share >= 0.05 && share <= 0.17, `Anyscale share ${share} outside 0.05–0.17`);
  for (const hit of await mocks.anyscale.hits()) {
    assertOpenAiHit(hit, 'esecret', 'meta-llama/Llama-2-70b-chat-hf');
  }
  const llama = responses.filter((r) => content(r) === 'Hello from anyscale serving meta-llama/Llama-2-70b-chat-hf');
  assert.equal(llama.length, counts.anyscale);
});

test('(d) a target with weight 0 is never picked', TIMEOUT, async () => {
  const total = 100;
  await pool(total, 8, () => ask(portkey(canaryConfig(0))));
  await pool(total, 8, () => ask(portkey(cookbookConfig({ anthropicWeight: 0, fallbackWeight: 1 }))));

  const counts = await hitCounts(mocks);
  assert.equal(counts.anyscale, 0, 'weight 0 canary got traffic');
  assert.equal(counts.anthropic, 0, 'weight 0 Anthropic got traffic');
  assert.equal(counts.openai, 2 * total);
});

test('(e) the traceID option comes back in x-portkey-trace-id; without one a UUID is generated', TIMEOUT, async () => {
  const traced = await ask(portkey(cookbookConfig()), { traceID: 'request-loadbalance-fallback' });
  assert.equal(traced.getHeaders()['trace-id'], 'request-loadbalance-fallback');

  const untraced = await ask(portkey(cookbookConfig()));
  assert.match(untraced.getHeaders()['trace-id'] ?? '', UUID);
});

test('(f) a stream through Anthropic arrives as OpenAI chunks', TIMEOUT, async () => {
  const client = portkey(anthropicTarget(mocks.anthropic));
  const stream = await client.chat.completions.create({
    messages: COOKBOOK_MESSAGES,
    model: 'gpt-3.5-turbo',
    stream: true,
  });
  const { chunks, error, text, finishes } = await collect(stream);

  assert.equal(error, null, `stream failed: ${error?.message}`);
  assert.equal(text, 'Hello from anthropic serving claude-3-opus-20240229');
  assert.deepEqual(finishes, ['stop']);
  assert.ok(chunks.every((c) => c.object === 'chat.completion.chunk'), 'every chunk is a chat.completion.chunk');
  const [hit] = await mocks.anthropic.hits();
  assert.equal(hit.body.stream, true);
  assertAnthropicHit(hit);
});

test('(g) a stream whose primary answers 503 falls back before the first byte', TIMEOUT, async () => {
  await mocks.openai.script({ status: 503, count: -1 });
  const config = { strategy: { mode: 'fallback' }, targets: [openaiTarget(mocks.openai), azureTarget(mocks.azure)] };
  const client = portkey(config);
  const stream = await client.chat.completions.create({
    messages: COOKBOOK_MESSAGES,
    model: 'gpt-3.5-turbo',
    stream: true,
  });
  const { error, text, finishes } = await collect(stream);

  assert.equal(error, null, `stream failed: ${error?.message}`);
  assert.match(text, /^Hello from azure serving /);
  assert.deepEqual(finishes, ['stop']);
  assert.equal(client.responseHeaders['x-portkey-last-used-option-index'], 'config.targets[1]');
  const counts = await hitCounts(mocks);
  assert.equal(counts.openai, 1);
  assert.equal(counts.azure, 1);
});

test('(h) an upstream cut mid-stream is reported, never a clean end', TIMEOUT, async () => {
  await mocks.openai.script({ cut_after: 3 });
  const config = openaiTarget(mocks.openai);

  const sdkStream = await portkey(config).chat.completions.create({
    messages: COOKBOOK_MESSAGES,
    model: 'gpt-3.5-turbo',
    stream: true,
  });
  const { chunks, error } = await collect(sdkStream);
  const errorChunk = chunks.find((c) => c.error);
  assert.ok(error || errorChunk, `the SDK saw a clean end after ${chunks.length} chunks`);

  // The same request on the wire: relayed chunks, then an SSE error event (not a dropped connection).
  const response = await fetch(`${stack.gateway.url}/v1/chat/completions`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'x-portkey-api-key': ADMIN_KEY,
      'x-portkey-config': JSON.stringify(config),
    },
    body: JSON.stringify({ messages: COOKBOOK_MESSAGES, model: 'gpt-3.5-turbo', stream: true }),
  });
  assert.equal(response.status, 200);
  let body;
  try {
    body = await readBody(response);
  } catch (err) {
    assert.fail(`the gateway dropped the connection instead of sending an SSE error event (${err.message}); ` +
      `received: ${JSON.stringify(err.partialBody)}`);
  }
  const events = sseEvents(body);
  const firstError = events.findIndex(isErrorEvent);
  assert.ok(firstError > 0, `relayed chunks then an error event expected; got ${JSON.stringify(body)}`);
  const relayed = events.slice(0, firstError).map((e) => JSON.parse(e.data));
  const text = relayed.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'Hello from', 'the chunks before the cut were relayed');
  assert.ok(!events.slice(0, firstError).some((e) => e.data === '[DONE]'), 'no [DONE] before the error');
});
