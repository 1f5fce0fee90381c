import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundlePage } from './chromium.js';

const PAGE = `<!doctype html><script type="module">
import * as sdk from '/index.js';
window.sdk = sdk;
window.ready = true;
</script>`;

interface PageSdk {
  readIndexedDb(source: {
    database: string;
    store: string;
    featureShape: number[];
    targetShape: number[];
  }): Promise<{
    x: Float32Array;
    y: Float32Array;
  }>;
}

/** Creates `store` in `database` with `records`, in the page's own IndexedDB. */
function seed(page: Page, database: string, records: unknown[]): Promise<void> {
  return page.evaluate(
    ([name, items]) =>
      new Promise<void>((resolve, reject) => {
        const open = indexedDB.open(name, 1);
        open.onupgradeneeded = () => open.result.createObjectStore('train', { autoIncrement: true });
        open.onerror = () => reject(open.error);
        open.onsuccess = () => {
          const tx = open.result.transaction('train', 'readwrite');
          for (const item of items) tx.objectStore('train').add(item);
          tx.oncomplete = () => {
            open.result.close();
            resolve();
          };
        };
      }),
    [database, records] as const,
  );
}

describe('local data from IndexedDB, in headless Chromium', () => {
  let opened: Awaited<ReturnType<typeof openBundlePage>>;
  let page: Page;

  beforeAll(async () => {
    opened = await openBundlePage(PAGE);
    page = opened.page;
  }, 60_000);

  afterAll(() => opened?.close());

  it('reads every record into example-major arrays', async () => {
    await seed(page, 'digits', [
      { x: [0.1, 0.2], y: [1] },
      { x: Float32Array.of(0.3, 0.4), y: [0] },
    ]);
    const read = await page.evaluate(async () => {
      const { sdk } = globalThis as unknown as { sdk: PageSdk };
      const data = await sdk.readIndexedDb({
        database: 'digits',
        store: 'train',
        featureShape: [2],
        targetShape: [1],
      });
      return { x: Array.from(data.x), y: Array.from(data.y) };
    });
    expect(read.x.map((v) => Number(v.toFixed(5)))).toEqual([0.1, 0.2, 0.3, 0.4]);
    expect(read.y).toEqual([1, 0]);
  });

  it('refuses a record of the wrong shape with INVALID_ARGUMENT, naming the record', async () => {
    await seed(page, 'broken', [
      { x: [0.1, 0.2], y: [1] },
      { x: [0.5], y: [1] },
    ]);
    const error = await page.evaluate(async () => {
      const { sdk } = globalThis as unknown as { sdk: PageSdk };
      return sdk
        .readIndexedDb({ database: 'broken', store: 'train', featureShape: [2], targetShape: [1] })
        .then(
          () => undefined,
          (e: { code?: string; message: string }) => ({ code: e.code, message: e.message }),
        );
    });
    expect(error).toEqual({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('record 1') });
  });
});
