import {
  createSecAggClient,
  createSecAggServerRound,
  decodeSecAggMessage,
  encodeSecAggMessage,
  type RandomBytes,
  type SecAggClient,
  type SecAggResult,
  type SecAggServerStep,
  seededRandomBytes,
} from '@fedlearn/core';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openBundlePage } from './chromium.js';

// Known answer: five clients with fixed inputs and fixed randomness; one drops out after sharing
// its keys. Every message the browser build produces must be byte-for-byte the Node build's, and
// the unmasked sum must be the plain sum of the four survivors' inputs.
const IDS = ['c0', 'c1', 'c2', 'c3', 'c4'];
const DROPPED = 'c4';
const CONFIG = { dimension: 16, clipRange: 1, quantizationBits: 12, maxWeight: 100 };
const inputOf = (i: number) => ({
  update: Float32Array.from({ length: CONFIG.dimension }, (_, j) => ((((i + 1) * (j + 3)) % 9) - 4) / 5),
  weight: 10 * (i + 1),
});
const POOLS = IDS.map((_, i) => Array.from(seededRandomBytes(1000 + i)(16_384)));

/** What the test page puts on `window.kat`: the browser bundle's clients, driven message by message. */
interface Kat {
  create(setup: number[], ids: readonly string[], pools: readonly number[][]): void;
  advertise(id: string): number[];
  handle(id: string, bytes: number[], dimension: number): number[];
}

/** The same random bytes in both builds: a pool read in order. */
function poolRandom(pool: readonly number[]): RandomBytes {
  let offset = 0;
  return (length) => {
    if (offset + length > pool.length) throw new Error('random pool exhausted');
    const out = Uint8Array.from(pool.slice(offset, offset + length));
    offset += length;
    return out;
  };
}

const PAGE = `<!doctype html><script type="module">
import * as sdk from '/index.js';
const pool = (bytes) => { let o = 0; return (n) => { if (o + n > bytes.length) throw new Error('random pool exhausted'); const out = Uint8Array.from(bytes.slice(o, o + n)); o += n; return out; }; };
const clients = new Map();
const input = (i, dimension) => ({ update: Float32Array.from({ length: dimension }, (_, j) => ((((i + 1) * (j + 3)) % 9) - 4) / 5), weight: 10 * (i + 1) });
window.kat = {
  create(setup, ids, pools) { ids.forEach((id, i) => clients.set(id, { i, c: sdk.createSecAggClient(sdk.decodeSecAggMessage(Uint8Array.from(setup)), id, { randomBytes: pool(pools[i]) }) })); },
  advertise(id) { return Array.from(sdk.encodeSecAggMessage(clients.get(id).c.advertiseKeys())); },
  handle(id, bytes, dimension) { const { i, c } = clients.get(id); const m = sdk.decodeSecAggMessage(Uint8Array.from(bytes)); return Array.from(sdk.encodeSecAggMessage(c.handle(m, input(i, dimension)))); },
};
window.ready = true;
</script>`;

describe('secure aggregation known answer: Node build and browser bundle (headless Chromium)', () => {
  let opened: Awaited<ReturnType<typeof openBundlePage>>;
  let page: Page;

  beforeAll(async () => {
    opened = await openBundlePage(PAGE);
    page = opened.page;
  }, 60_000);

  afterAll(() => opened?.close());

  it('gives the same bytes at every stage and the plain sum of the survivors', async () => {
    const round = createSecAggServerRound(CONFIG, IDS, { round: 1, randomBytes: seededRandomBytes(7) });
    const setupBytes = Array.from(encodeSecAggMessage(round.setup));
    const setup = decodeSecAggMessage(Uint8Array.from(setupBytes)) as typeof round.setup;
    const node = new Map<string, SecAggClient>(
      IDS.map((id, i) => [id, createSecAggClient(setup, id, { randomBytes: poolRandom(POOLS[i]!) })]),
    );
    await page.evaluate(
      ([s, ids, pools]) => (globalThis as unknown as { kat: Kat }).kat.create(s, ids, pools),
      [setupBytes, IDS, POOLS] as const,
    );
    let compared = 0;
    const reply = async (id: string, fromNode: Uint8Array, inBrowser: Promise<number[]>) => {
      expect(Array.from(fromNode)).toEqual(await inBrowser);
      compared++;
      return round.handle(id, decodeSecAggMessage(fromNode));
    };

    let step: SecAggServerStep = { kind: 'pending', stage: 'advertise-keys' };
    for (const id of IDS) {
      const bytes = encodeSecAggMessage(node.get(id)!.advertiseKeys());
      step = pick(
        step,
        await reply(
          id,
          bytes,
          page.evaluate((c) => (globalThis as unknown as { kat: Kat }).kat.advertise(c), id),
        ),
      );
    }
    for (let stage = 0; step.kind === 'send'; stage++) {
      let next: SecAggServerStep = { kind: 'pending', stage: step.stage };
      for (const { to, message } of step.messages) {
        // The dropped client shares its keys, then is never heard from again.
        if (to === DROPPED && stage >= 1) continue;
        const bytes = Array.from(encodeSecAggMessage(message));
        const i = IDS.indexOf(to);
        const fromNode = encodeSecAggMessage(
          node.get(to)!.handle(decodeSecAggMessage(Uint8Array.from(bytes)), inputOf(i)),
        );
        const inBrowser = page.evaluate(
          ([c, b, d]) => (globalThis as unknown as { kat: Kat }).kat.handle(c, b, d),
          [to, bytes, CONFIG.dimension] as const,
        );
        next = pick(next, await reply(to, fromNode, inBrowser));
      }
      step = next.kind === 'pending' ? round.closeStage() : next;
    }

    expect(step.kind).toBe('done');
    const result = (step as { result: SecAggResult }).result;
    expect([...result.survivors].sort()).toEqual(['c0', 'c1', 'c2', 'c3']);
    expect(result.dropped).toEqual([DROPPED]);
    // 5 advertisements, 5 share bundles, 4 masked inputs and 4 unmasking replies, each equal.
    expect(compared).toBe(18);
    const survivors = [0, 1, 2, 3].map(inputOf);
    expect(result.sumWeights).toBe(survivors.reduce((n, s) => n + s.weight, 0));
    const step12 = (2 * CONFIG.clipRange) / (2 ** CONFIG.quantizationBits - 1);
    for (let j = 0; j < CONFIG.dimension; j++) {
      const plain = survivors.reduce((sum, s) => sum + s.weight * (s.update[j] as number), 0);
      // Stochastic rounding moves each client's coordinate by less than one step.
      expect(Math.abs((result.weightedSum[j] as number) - plain)).toBeLessThanOrEqual(
        step12 * result.sumWeights,
      );
    }
  }, 120_000);
});

/** The last non-pending step of a stage (the one that moves the round on). */
function pick(previous: SecAggServerStep, next: SecAggServerStep): SecAggServerStep {
  return next.kind === 'pending' ? previous : next;
}
