// End-to-end harness: starts mock providers and the real gateway binary on port 0, hands their URLs to the
// tests, and kills everything afterwards. It owns process lifecycle only; tests own their assertions.
//
// Binaries: MOCK_PROVIDER_BIN (default target/release/mock-provider) and SWITCHBOARD_BIN (default
// target/release/switchboard), relative paths resolved against the repository root.

import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const ADMIN_KEY = 'sb-test-admin';
export const COOKBOOK_MESSAGES = [
  { role: 'system', content: 'You are a very helpful assistant.' },
  { role: 'user', content: 'What are 7 wonders in the world?' },
];

const STARTUP_TIMEOUT_MS = 20_000;
const LISTENING = /listening on (http:\/\/\S+)/;
const running = new Set();

// A test run that dies must not leave processes behind.
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

function binary(envName, fallback) {
  const path = resolve(REPO_ROOT, process.env[envName] ?? fallback);
  if (!existsSync(path)) {
    throw new Error(`${envName}: ${path} does not exist; build it with \`cargo build --release --workspace\``);
  }
  return path;
}

/** Spawns `bin args`, resolves with the URL once a "listening on URL" line appears on stdout or stderr. */
function launch(bin, args, env = {}) {
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  child.once('exit', () => running.delete(child));
  const output = [];
  const url = new Promise((resolveUrl, reject) => {
    const timer = setTimeout(() => fail(`no "listening on" line within ${STARTUP_TIMEOUT_MS} ms`), STARTUP_TIMEOUT_MS);
    function fail(why) {
      clearTimeout(timer);
      reject(new Error(`${bin} ${args.join(' ')}: ${why}\n--- output ---\n${output.join('')}`));
    }
    function watch(stream) {
      let pending = '';
      stream.setEncoding('utf8');
      stream.on('data', (text) => {
        output.push(text);
        pending += text;
        const lines = pending.split('\n');
        pending = lines.pop();
        const found = lines.map((line) => LISTENING.exec(line)).find(Boolean);
        if (found) {
          clearTimeout(timer);
          resolveUrl(found[1].replace(/\/$/, ''));
        }
      });
    }
    watch(child.stdout);
    watch(child.stderr);
    child.once('error', (err) => fail(`could not start: ${err.message}`));
    child.once('exit', (code, signal) => fail(`exited early (code ${code}, signal ${signal})`));
  });
  return { child, url, output };
}

/** Stops a child: SIGTERM, then SIGKILL if it lingers. */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((done) => child.once('exit', done));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
  await exited;
  clearTimeout(timer);
}

/** A running mock provider and its control endpoints. */
export class Mock {
  constructor(name, url, child) {
    this.name = name;
    this.url = url;
    this.child = child;
  }

  async #control(method, path, body) {
    const response = await fetch(this.url + path, {
      method,
      headers: body ? { 'content-type': 'application/json' } : {},
      body: body ? JSON.stringify(body) : undefined,
    });
    const parsed = await response.json();
    if (!response.ok) throw new Error(`${this.name} ${method} ${path}: ${response.status} ${JSON.stringify(parsed)}`);
    return parsed;
  }

  /**
   * Replaces the script: {status, count, retry_after, retry_after_ms, headers, delay_ms, hang, chunk_delay_ms,
   * cut_after, stall_after, body, content_type, pad_bytes, redirect, redirect_status, events} (see
   * crates/testkit/src/script.rs for what each does).
   */
  script(script) {
    return this.#control('POST', '/_script', script);
  }

  /** Every request this mock received: [{method, path, query, headers, body}]. */
  hits() {
    return this.#control('GET', '/_hits');
  }

  /** Forgets hits and resets the script. */
  clear() {
    return this.#control('DELETE', '/_hits');
  }
}

export async function startMock(name) {
  const bin = binary('MOCK_PROVIDER_BIN', 'target/release/mock-provider');
  const { child, url } = launch(bin, ['--port', '0', '--name', name]);
  return new Mock(name, await url, child);
}

/** The gateway on port 0 with a fresh data directory. */
export async function startGateway() {
  const bin = binary('SWITCHBOARD_BIN', 'target/release/switchboard');
  const dataDir = mkdtempSync(join(tmpdir(), 'switchboard-e2e-'));
  const env = { SWITCHBOARD_ADMIN_KEY: ADMIN_KEY };
  const { child, url, output } = launch(bin, ['serve', '--port', '0', '--data-dir', dataDir], env);
  try {
    return { url: await url, child, dataDir, output };
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Starts one mock per name and the gateway. Returns {gateway, mocks, clearAll, stop}; `mocks[name]` is a Mock.
 * Call `stop()` in `after`.
 */
export async function startStack(names) {
  const started = [];
  try {
    const mocks = {};
    for (const name of names) {
      mocks[name] = await startMock(name);
      started.push(mocks[name].child);
    }
    const gateway = await startGateway();
    started.push(gateway.child);
    return {
      gateway,
      mocks,
      clearAll: () => Promise.all(Object.values(mocks).map((m) => m.clear())),
      /** The gateway's log so far, for failure messages. */
      gatewayLog: () => gateway.output.join(''),
      async stop() {
        if (process.env.E2E_SHOW_LOGS) process.stderr.write(`--- gateway log ---\n${gateway.output.join('')}\n`);
        await Promise.all(started.map(stop));
        rmSync(gateway.dataDir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.all(started.map(stop));
    throw err;
  }
}

// Config targets for the contract's inline-credential form.

export const openaiTarget = (mock, extra = {}) => ({
  provider: 'openai',
  api_key: 'sk-a',
  custom_host: `${mock.url}/v1`,
  ...extra,
});

export const anthropicTarget = (mock, extra = {}) => ({
  provider: 'anthropic',
  api_key: 'sk-ant',
  custom_host: `${mock.url}/v1`,
  override_params: { max_tokens: 200, model: 'claude-3-opus-20240229' },
  ...extra,
});

export const azureTarget = (mock, extra = {}) => ({
  provider: 'azure-openai',
  api_key: 'az',
  resource_name: 'x',
  deployment_id: 'gpt35',
  api_version: '2024-02-01',
  custom_host: `${mock.url}/openai`,
  ...extra,
});

export const anyscaleTarget = (mock, extra = {}) => ({
  provider: 'anyscale',
  api_key: 'esecret',
  custom_host: `${mock.url}/v1`,
  override_params: { model: 'meta-llama/Llama-2-70b-chat-hf' },
  ...extra,
});

/** Runs `task(i)` for i in 0..count with at most `width` in flight; resolves with the results in order. */
export async function pool(count, width, task) {
  const results = new Array(count);
  let next = 0;
  async function worker() {
    while (next < count) {
      const i = next++;
      results[i] = await task(i);
    }
  }
  await Promise.all(Array.from({ length: Math.min(width, count) }, worker));
  return results;
}

/** Counts of hits per mock name, e.g. {anthropic: 150, openai: 150, azure: 0}. */
export async function hitCounts(mocks) {
  const entries = await Promise.all(Object.values(mocks).map(async (m) => [m.name, (await m.hits()).length]));
  return Object.fromEntries(entries);
}

/** Reads a whole SSE body as text; a connection that dies mid-body rejects, with the text read so far. */
export async function readBody(response) {
  const decoder = new TextDecoder();
  let text = '';
  try {
    for await (const chunk of response.body) text += decoder.decode(chunk, { stream: true });
  } catch (err) {
    err.partialBody = text;
    throw err;
  }
  return text;
}

/** Splits an SSE body into events: [{event, data}] (`event` is null when the block has no `event:` line). */
export function sseEvents(text) {
  return text
    .split(/\r?\n\r?\n/)
    .filter((block) => block.trim() !== '')
    .map((block) => {
      const lines = block.split(/\r?\n/);
      const field = (name) => lines.filter((l) => l.startsWith(`${name}:`)).map((l) => l.slice(name.length + 1).trim());
      return { event: field('event')[0] ?? null, data: field('data').join('\n') };
    })
    .filter((e) => e.event !== null || e.data !== '');
}

/** Whether an SSE event reports an error: `event: error`, or a data payload with an `error` member. */
export function isErrorEvent({ event, data }) {
  if (event === 'error') return true;
  try {
    return JSON.parse(data)?.error != null;
  } catch {
    return false;
  }
}
