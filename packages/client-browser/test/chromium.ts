import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';

/** Debian's headless chromium (installed by .ci/run), for every browser test of the repository. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Serves `html` at `/` and the browser bundle (dist/index.js) at `/index.js` on a loopback port,
 * so a test page can `import * as sdk from '/index.js'` as a real page would.
 */
export async function serveBundlePage(html: string): Promise<{ url: string; close: () => Promise<void> }> {
  const bundle = readFileSync(join(import.meta.dirname, '../dist/index.js'));
  const server = createServer((request, response) => {
    if (request.url === '/index.js')
      response.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
    else response.writeHead(200, { 'content-type': 'text/html' }).end(html);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** Chromium with one page on `html` (which sets `window.ready` once the bundle is imported). */
export async function openBundlePage(html: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const served = await serveBundlePage(html);
  const browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(served.url);
  await page.waitForFunction(() => (globalThis as { ready?: boolean }).ready === true);
  return {
    page,
    close: async () => {
      await browser.close();
      await served.close();
    },
  };
}
