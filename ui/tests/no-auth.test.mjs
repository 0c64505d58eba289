// A gateway started with --insecure-no-auth: the dashboard opens without a sign-in page, says that
// nothing is protected, and its writes work without a session (no cookie, so no CSRF token either).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT } from '../../e2e/harness.mjs';
import { startBrowser, watchedPage } from './support.mjs';

let gateway;
let dataDir;
let origin;
let chrome;

before(async () => {
  const bin = resolve(REPO_ROOT, process.env.SWITCHBOARD_BIN ?? 'target/release/switchboard');
  dataDir = mkdtempSync(join(tmpdir(), 'switchboard-ui-noauth-'));
  gateway = spawn(bin, ['serve', '--port', '0', '--data-dir', dataDir, '--insecure-no-auth'], { stdio: ['ignore', 'pipe', 'pipe'] });
  origin = await new Promise((done, fail) => {
    const timer = setTimeout(() => fail(new Error('the gateway did not say where it listens')), 20_000);
    let seen = '';
    const watch = (text) => {
      seen += text;
      const found = /listening on (http:\/\/\S+)/.exec(seen);
      if (found) {
        clearTimeout(timer);
        done(found[1].replace(/\/$/, ''));
      }
    };
    gateway.stdout.setEncoding('utf8').on('data', watch);
    gateway.stderr.setEncoding('utf8').on('data', watch);
    gateway.once('exit', (code) => fail(new Error(`the gateway exited (${code}): ${seen}`)));
  });
  chrome = await startBrowser();
});

after(async () => {
  await chrome?.close();
  gateway?.kill('SIGTERM');
  await new Promise((done) => (gateway?.exitCode !== null ? done() : gateway.once('exit', done)));
  rmSync(dataDir, { recursive: true, force: true });
});

test('without auth the dashboard opens on the logs, says so, and can write', { timeout: 60_000 }, async () => {
  const context = await chrome.browser.newContext();
  const page = await watchedPage(context, origin);
  await page.goto(`${origin}/ui/`);
  await page.getByRole('heading', { name: 'Logs', level: 1 }).waitFor();
  await page.getByText('No auth (--insecure-no-auth)').waitFor();
  assert.equal(await page.getByRole('button', { name: 'Sign out' }).count(), 0);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Configs', exact: true }).click();
  await page.getByRole('link', { name: 'New config' }).click();
  await page.getByLabel('Name', { exact: true }).fill('No auth');
  await page.getByLabel('Config (JSON)').fill(JSON.stringify({ provider: 'openai', api_key: 'sk-x' }));
  await page.getByRole('status').filter({ hasText: 'Valid' }).waitFor();
  await page.getByRole('button', { name: 'Create config' }).click();
  await page.getByRole('heading', { name: 'Edit No auth' }).waitFor();
  assert.deepEqual(page.problems, []);
  await context.close();
});
