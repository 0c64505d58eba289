// The Responses API and Anthropic's Messages API through the real gateway, with clients no one here wrote: the
// official `openai` SDK's responses.create (plain and streamed), the `@anthropic-ai/sdk` messages.create (plain
// and streamed), and the Vercel AI SDK's default OpenAI model (`ai` + `@ai-sdk/openai`, which calls the Responses
// API). Each runs through the cookbook's config, so both halves (Anthropic translated or passed through, OpenAI
// passed through or translated) are exercised; which provider served is counted from the mocks' recorded hits.

import assert from 'node:assert/strict';
import { after, before, beforeEach, test } from 'node:test';
import Anthropic from '@anthropic-ai/sdk';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText, streamText } from 'ai';
import OpenAI from 'openai';
import { ADMIN_KEY, anthropicTarget, azureTarget, hitCounts, openaiTarget, startStack } from './harness.mjs';

const TIMEOUT = { timeout: 60_000 };
const INSTRUCTIONS = 'You are a very helpful assistant.';
const QUESTION = 'What are 7 wonders in the world?';

let stack;
let mocks;

before(async () => {
  stack = await startStack(['anthropic', 'openai', 'azure']);
  mocks = stack.mocks;
});

after(async () => {
  await stack?.stop();
});

beforeEach(async () => {
  await stack.clearAll();
});

/** The cookbook's config: Anthropic ⊕ (OpenAI → Azure), with the weights given. */
function cookbook(anthropicWeight = 0.5, fallbackWeight = 0.5) {
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

const onlyAnthropic = () => cookbook(1, 0);
const onlyOpenai = () => cookbook(0, 1);

function openai(config) {
  const defaultHeaders = { 'x-portkey-api-key': ADMIN_KEY, 'x-portkey-config': JSON.stringify(config) };
  return new OpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: 'sk-not-used', defaultHeaders, maxRetries: 0 });
}

/** The Anthropic SDK as its users configure it: the gateway's key as the API key, the base URL changed. */
function anthropic(config) {
  const defaultHeaders = { 'x-portkey-config': JSON.stringify(config) };
  return new Anthropic({ baseURL: stack.gateway.url, apiKey: ADMIN_KEY, defaultHeaders, maxRetries: 0 });
}

function vercel(config) {
  const headers = { 'x-portkey-api-key': ADMIN_KEY, 'x-portkey-config': JSON.stringify(config) };
  return createOpenAI({ baseURL: `${stack.gateway.url}/v1`, apiKey: 'sk-not-used', headers });
}

async function served() {
  const counts = await hitCounts(mocks);
  return Object.keys(counts).filter((name) => counts[name] > 0);
}

for (const [half, config, provider, text] of [
  ['Anthropic (translated)', onlyAnthropic, 'anthropic', 'Hello from anthropic serving claude-3-opus-20240229'],
  ['OpenAI (passed through)', onlyOpenai, 'openai', 'Hello from openai serving gpt-4o-mini'],
]) {
  test(`openai SDK responses.create through the cookbook's ${half} half`, TIMEOUT, async () => {
    const response = await openai(config()).responses.create({
      model: 'gpt-4o-mini',
      instructions: INSTRUCTIONS,
      input: QUESTION,
    });
    assert.equal(response.object, 'response');
    assert.equal(response.status, 'completed');
    assert.equal(response.output_text, text);
    assert.ok(response.usage.output_tokens > 0, JSON.stringify(response.usage));
    assert.deepEqual(await served(), [provider]);
  });

  test(`openai SDK responses.create streamed through the cookbook's ${half} half`, TIMEOUT, async () => {
    const stream = await openai(config()).responses.create({ model: 'gpt-4o-mini', input: QUESTION, stream: true });
    const types = [];
    let deltas = '';
    let completed;
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'response.output_text.delta') deltas += event.delta;
      if (event.type === 'response.completed') completed = event.response;
    }
    assert.equal(types[0], 'response.created');
    assert.equal(types.at(-1), 'response.completed');
    assert.equal(deltas, text);
    assert.equal(completed.output[0].content[0].text, text);
    assert.deepEqual(await served(), [provider]);
  });
}

test('openai SDK responses.stream helper assembles the final response from a translated stream', TIMEOUT, async () => {
  const stream = openai(onlyAnthropic()).responses.stream({ model: 'gpt-4o-mini', input: QUESTION });
  const final = await stream.finalResponse();
  assert.equal(final.output_text, 'Hello from anthropic serving claude-3-opus-20240229');
});

for (const [half, config, provider, text] of [
  ['Anthropic (passed through)', onlyAnthropic, 'anthropic', 'Hello from anthropic serving claude-3-opus-20240229'],
  ['OpenAI (translated)', onlyOpenai, 'openai', 'Hello from openai serving claude-3-5-sonnet-20241022'],
]) {
  test(`@anthropic-ai/sdk messages.create through the cookbook's ${half} half`, TIMEOUT, async () => {
    const message = await anthropic(config()).messages.create({
      model: 'claude-3-5-sonnet-20241022',
      max_tokens: 256,
      system: INSTRUCTIONS,
      messages: [{ role: 'user', content: QUESTION }],
    });
    assert.equal(message.type, 'message');
    assert.equal(message.content[0].text, text);
    assert.equal(message.stop_reason, 'end_turn');
    assert.ok(message.usage.output_tokens > 0);
    assert.deepEqual(await served(), [provider]);
  });

  test(`@anthropic-ai/sdk messages.create streamed through the cookbook's ${half} half`, TIMEOUT, async () => {
    const stream = await anthropic(config()).messages.create({
      model: 'claude-3-5-sonnet-20241022',
      max_tokens: 256,
      messages: [{ role: 'user', content: QUESTION }],
      stream: true,
    });
    const types = [];
    let text_ = '';
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === 'content_block_delta' && event.delta.type === 'text_delta') text_ += event.delta.text;
    }
    assert.equal(types[0], 'message_start');
    assert.equal(types.at(-1), 'message_stop');
    assert.ok(types.includes('message_delta'));
    assert.equal(text_, text);
    assert.deepEqual(await served(), [provider]);
  });
}

test('@anthropic-ai/sdk messages.stream helper gets the final message from a translated stream', TIMEOUT, async () => {
  const stream = anthropic(onlyOpenai()).messages.stream({
    model: 'claude-3-5-sonnet-20241022',
    max_tokens: 64,
    messages: [{ role: 'user', content: QUESTION }],
  });
  const final = await stream.finalMessage();
  assert.equal(final.content[0].text, 'Hello from openai serving claude-3-5-sonnet-20241022');
  assert.equal(final.stop_reason, 'end_turn');
});

test('@anthropic-ai/sdk sees an error in its own shape', TIMEOUT, async () => {
  await mocks.openai.script({ status: 429, count: -1 });
  await mocks.azure.script({ status: 429, count: -1 });
  await assert.rejects(
    anthropic(onlyOpenai()).messages.create({
      model: 'claude-3-5-sonnet-20241022',
      max_tokens: 16,
      messages: [{ role: 'user', content: 'hi' }],
    }),
    (err) => err instanceof Anthropic.RateLimitError && err.error?.error?.type === 'rate_limit_error',
  );
});

for (const [half, config, provider] of [
  ['Anthropic (translated)', onlyAnthropic, 'anthropic'],
  ['OpenAI (passed through)', onlyOpenai, 'openai'],
]) {
  test(`Vercel AI SDK default model (Responses API) through the cookbook's ${half} half`, TIMEOUT, async () => {
    const model = vercel(config())('gpt-4o-mini');
    const { text, usage, finishReason } = await generateText({ model, system: INSTRUCTIONS, prompt: QUESTION });
    assert.match(text, /^Hello from /);
    assert.equal(finishReason, 'stop');
    assert.ok(usage.outputTokens > 0, JSON.stringify(usage));
    assert.deepEqual(await served(), [provider]);

    await stack.clearAll();
    const streamed = streamText({ model, prompt: QUESTION });
    let chunks = '';
    for await (const part of streamed.textStream) chunks += part;
    assert.equal(chunks, text, 'the stream says what the plain call said');
    assert.deepEqual(await served(), [provider]);
  });
}

test('the cookbook config splits Responses requests over both halves', TIMEOUT, async () => {
  const client = openai(cookbook());
  for (let i = 0; i < 30; i += 1) {
    const response = await client.responses.create({ model: 'gpt-4o-mini', input: QUESTION });
    assert.match(response.output_text, /^Hello from (anthropic|openai) /);
  }
  const counts = await hitCounts(mocks);
  assert.ok(counts.anthropic > 0 && counts.openai > 0, JSON.stringify(counts));
  assert.equal(counts.anthropic + counts.openai, 30);
});
