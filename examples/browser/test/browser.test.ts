import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../../packages/client-browser/test/chromium.js';
import { fedlearn, stopAll } from '../../support/processes.js';

const HERE = resolve(import.meta.dirname, '..');
const README = readFileSync(join(HERE, 'README.md'), 'utf8');

let browser: Browser | undefined;
afterAll(async () => {
  await browser?.close();
  await stopAll();
});

describe('examples/browser', () => {
  it('the README’s one command serves the page; a headless Chromium joins and trains in a round', async () => {
    const command = README.split('\n').find((l) => l.startsWith('npx fedlearn demo --browser'))!;
    const home = mkdtempSync(join(tmpdir(), 'fedlearn-browser-example-'));
    const demo = fedlearn(command.split(/\s+/).slice(2), {
      env: { FEDLEARN_HOME: home, MLFLOW_TRACKING_URI: '' },
      cwd: home,
    });
    const [, url] = await demo.waitFor(/browser demo: open (http:\/\/\S+#token=\S+)/);
    browser = await launchChromium();
    const page = await browser.newPage();
    // wasm or cpu in headless Chromium (no GPU); record=1 keeps the page's updates for this check.
    await page.goto(`${url}&backend=wasm,cpu&record=1`);
    await page.getByRole('button', { name: 'Join the job' }).click({ timeout: 60_000 });
    await page.waitForFunction(
      () => (globalThis as unknown as { fedlearnDemo: { fits: unknown[] } }).fedlearnDemo.fits.length >= 1,
      undefined,
      { timeout: 90_000 },
    );
    const state = await page.evaluate(
      () => (globalThis as unknown as { fedlearnDemo: { clientId: string; error?: string } }).fedlearnDemo,
    );
    expect(state.clientId).toBe('browser-1');
    expect(state.error).toBeUndefined();
    // The round the page trained in lists it among the participants once that round's model is out.
    await page.waitForFunction(
      () =>
        Array.from(document.querySelectorAll('#participants li')).some((li) =>
          li.textContent?.includes('browser-1'),
        ),
      undefined,
      { timeout: 90_000 },
    );
    await demo.waitFor(/stays up until Ctrl-C/);
    expect(demo.output()).toMatch(/│\s+8\s+│/);
    demo.child.kill('SIGINT');
    expect(await demo.exited).toBe(0);
  });
});
