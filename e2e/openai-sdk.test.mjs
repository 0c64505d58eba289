// The official `openai` SDK pointed at the gateway: only the base URL and two x-portkey-* headers change.
// Covers non-stream, stream, embeddings, completions, tool calls through Anthropic translation, provider headers
// without a config, and the errors a user sees for a bad config or a wrong gateway key.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import OpenAI from 'openai';
import { ADMIN_KEY, anthropicTarget, hitCounts, openaiTarget, startStack } from './harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const MESSAGES = [
  { role: 'system', content: 'You are terse.' },
  { role: 'user', content: 'What is the weather in Paris?' },
];
const WEATHER_PARAMETERS = {
  type: 'object',
  properties: { city: { type: 'string' }, unit: { type: 'string' } },
  required: ['city'],
};
const WEATHER_TOOL = {
  type: 'function',
  function: { name: 'get_weather', description: 'Current weather', parameters: WEATHER_PARAMETERS },
};

let stack;
let mocks;

before(async () => {
  stack = await startStack(['openai', 'anthropic']);
  mocks = stack.mocks;
});

after(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  await stack.clearAll();
});

/** An OpenAI client that talks to the gateway; no SDK retries, so every upstream hit is the gateway's doing. */
function client(config, { apiKey = 'sk-not-used', gatewayKey = ADMIN_KEY, headers = {} } = {}) {
  const defaultHeaders = { 'x-portkey-api-key': gatewayKey, ...headers };
  if (config !== undefined) defaultHeaders['x-portkey-config'] = JSON.stringify(config);
  return new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey, defaultHeaders, maxRetries: 0 });
}

async function onlyHit(mock) {
  const hits = await mock.hits();
  assert.equal(hits.length, 1, `${mock.name} hits: ${hits.length}`);
  return hits[0];
}

test('non-stream chat completion with provider headers and upstream credentials from the config', TIMEOUT, async () => {
  const { data, response } = await client(openaiTarget(mocks.openai))
    .chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES })
    .withResponse();

  assert.equal(data.object, 'chat.completion');
  assert.equal(data.choices[0].message.content, 'Hello from openai serving gpt-4o-mini');
  assert.equal(data.choices[0].finish_reason, 'stop');
  assert.equal(data.usage.completion_tokens, 5);
  assert.equal(response.headers.get('x-portkey-provider'), 'openai');
  assert.ok(response.headers.get('x-portkey-trace-id'), 'a trace id is always sent');

  const hit = await onlyHit(mocks.openai);
  assert.equal(hit.headers.authorization, 'Bearer sk-a', "the config's key is used, not the client's");
  assert.equal(hit.headers['x-portkey-api-key'], undefined, 'the gateway key must not reach providers');
  assert.deepEqual(hit.body.messages, MESSAGES);
});

test('stream with include_usage relays chunks, finish_reason and the usage chunk', TIMEOUT, async () => {
  const stream = await client(openaiTarget(mocks.openai)).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: MESSAGES,
    stream: true,
    stream_options: { include_usage: true },
  });
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);

  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, 'Hello from openai serving gpt-4o-mini');
  assert.deepEqual(chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean), ['stop']);
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.equal(last.usage.completion_tokens, 5);
  assert.equal((await onlyHit(mocks.openai)).body.stream, true);
});

test('embeddings come back decoded', TIMEOUT, async () => {
  const result = await client(openaiTarget(mocks.openai)).embeddings.create({
    model: 'text-embedding-3-small',
    input: ['first text', 'second text'],
  });

  assert.equal(result.data.length, 2);
  for (const item of result.data) {
    assert.equal(item.embedding.length, 4);
    assert.ok(item.embedding.every(Number.isFinite));
  }
  assert.equal(result.usage.prompt_tokens, 4);
  const hit = await onlyHit(mocks.openai);
  assert.equal(hit.path, '/v1/embeddings');
});

test('legacy completions pass through', TIMEOUT, async () => {
  const result = await client(openaiTarget(mocks.openai)).completions.create({
    model: 'gpt-3.5-turbo-instruct',
    prompt: 'Say hello',
  });
  assert.equal(result.choices[0].text, 'Hello from openai serving gpt-3.5-turbo-instruct');
  assert.equal((await onlyHit(mocks.openai)).path, '/v1/completions');
});

test('models can be listed', TIMEOUT, async () => {
  const page = await client(openaiTarget(mocks.openai)).models.list();
  assert.ok(Array.isArray(page.data), 'a list of models');
});

test('tool calls are translated to and from Anthropic', TIMEOUT, async () => {
  const result = await client(anthropicTarget(mocks.anthropic)).chat.completions.create({
    model: 'gpt-4o-mini',
    messages: MESSAGES,
    tools: [WEATHER_TOOL],
  });

  const call = result.choices[0].message.tool_calls?.[0];
  assert.ok(call, `a tool call expected: ${JSON.stringify(result.choices[0])}`);
  assert.equal(call.type, 'function');
  assert.equal(call.function.name, 'get_weather');
  assert.deepEqual(JSON.parse(call.function.arguments), { city: 'mock' });
  assert.equal(result.choices[0].finish_reason, 'tool_calls');

  const hit = await onlyHit(mocks.anthropic);
  assert.equal(hit.body.tools.length, 1);
  assert.equal(hit.body.tools[0].name, 'get_weather');
  assert.deepEqual(hit.body.tools[0].input_schema, WEATHER_PARAMETERS);
});

test('a provider chosen by headers alone (no config)', TIMEOUT, async () => {
  const sdk = client(undefined, {
    apiKey: 'sk-direct',
    headers: { 'x-portkey-provider': 'openai', 'x-portkey-custom-host': `${mocks.openai.url}/v1` },
  });
  const result = await sdk.chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES });

  assert.equal(result.choices[0].message.content, 'Hello from openai serving gpt-4o-mini');
  assert.equal((await onlyHit(mocks.openai)).headers.authorization, 'Bearer sk-direct');
});

test('a bad config is a 400 BadRequestError naming the config path', TIMEOUT, async () => {
  const config = { strategy: { mode: 'roundrobin' }, targets: [openaiTarget(mocks.openai)] };
  await assert.rejects(
    client(config).chat.completions.create({ model: 'gpt-4o-mini', messages: MESSAGES }),
    (err) => {
      assert.ok(err instanceof OpenAI.BadRequestError, `BadRequestError expected, got ${err?.constructor?.name}`);
      assert.equal(err.status, 400);
      assert.match(err.message, /config\.strategy\.mode/);
      return true;
    },
  );
  assert.deepEqual(await hitCounts(mocks), { openai: 0, anthropic: 0 });
});

test('a wrong gateway key is a 401 AuthenticationError', TIMEOUT, async () => {
  await assert.rejects(
    client(openaiTarget(mocks.openai), { gatewayKey: 'sb-wrong' }).chat.completions.create({
      model: 'gpt-4o-mini',
      messages: MESSAGES,
    }),
    (err) => {
      assert.ok(err instanceof OpenAI.AuthenticationError, `AuthenticationError expected, got ${err?.constructor?.name}`);
      assert.equal(err.status, 401);
      return true;
    },
  );
  assert.deepEqual(await hitCounts(mocks), { openai: 0, anthropic: 0 });
});
