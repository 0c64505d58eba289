// Browser-test support: the real gateway and mock providers (through e2e/harness.mjs) and a
// headless Debian Chromium driven by playwright-core. Tests find elements as a person does: by
// role, label and text.

import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export { ADMIN_KEY, COOKBOOK_MESSAGES, startStack } from '../../e2e/harness.mjs';

const HERE = dirname(fileURLToPath(import.meta.url));
export const SCREENSHOTS = join(HERE, 'screenshots');
const CHROMIUM = process.env.CHROMIUM_BIN ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/**
 * A headless Chromium. playwright-core gives every launch a fresh temporary profile (its own
 * --user-data-dir, removed on close), so no state leaks between runs.
 */
export async function startBrowser() {
  const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ARGS });
  return { browser, close: () => browser.close() };
}

/**
 * A page that records anything the browser refused (CSP violations, failed requests to another
 * origin, uncaught errors) into `problems`, for the test to assert empty.
 */
export async function watchedPage(context, origin) {
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    const text = msg.text();
    if (/Content Security Policy|Refused to/i.test(text)) problems.push(`CSP: ${text}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    const url = req.url();
    if (!url.startsWith(origin) && !url.startsWith('data:') && !url.startsWith('blob:')) {
      problems.push(`request to another origin: ${url}`);
    }
  });
  page.problems = problems;
  return page;
}

/** The whole page as `name.png`; `{ fullPage: false }` for what the window shows. */
export async function screenshot(page, name, { fullPage = true } = {}) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage });
}

/** GET/POST a gateway API with the admin key (set-up and checks outside the browser). */
export async function adminApi(gateway, path, init = {}) {
  const { ADMIN_KEY } = await import('../../e2e/harness.mjs');
  const response = await fetch(gateway.url + path, {
    ...init,
    headers: { 'x-portkey-api-key': ADMIN_KEY, 'content-type': 'application/json', ...(init.headers ?? {}) },
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null };
}

/** Polls `check` until it returns a truthy value (log records are written in batches). */
export async function eventually(check, { timeoutMs = 10_000, what = 'condition' } = {}) {
  const until = Date.now() + timeoutMs;
  let last;
  while (Date.now() < until) {
    last = await check();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 150));
  }
  throw new Error(`timed out waiting for ${what} (last: ${JSON.stringify(last)})`);
}

/** Whether the document is wider than the window (sideways scrolling). */
export async function overflow(page) {
  return page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
}

/** Form controls and buttons a screen reader (or a test) could not name. */
export async function unlabelled(page) {
  return page.evaluate(() => {
    const named = (el) =>
      (el.labels && el.labels.length > 0) ||
      el.getAttribute('aria-label') ||
      el.getAttribute('aria-labelledby') ||
      (el.tagName === 'BUTTON' && el.textContent.trim());
    return [...document.querySelectorAll('input, select, textarea, button')]
      .filter((el) => el.type !== 'hidden' && !named(el))
      .map((el) => el.outerHTML.slice(0, 120));
  });
}
