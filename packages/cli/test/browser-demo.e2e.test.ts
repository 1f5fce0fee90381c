import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { evaluateModel, selectBackend } from '@fedlearn/client-node';
import { flattenParams, type ModelParams } from '@fedlearn/core';
import { Coordinator, type CoordinatorEvent, type RoundSummary } from '@fedlearn/server';
import * as tf from '@tensorflow/tfjs-core';
import pino from 'pino';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BrowserDemo } from '../src/browser-demo.js';
import { browserDemoFor } from '../src/browser-demo-command.js';
import { loadMnist } from '../src/mnist.js';
import { buildMnistMlp, toTensors } from '../src/mnist-model.js';
import {
  launchChromium,
  maxAbsDifference,
  pageFits,
  plainAggregate,
  type RecordedFit,
  recordingNodeClient,
} from './browser-harness.js';

const SEED = 7;
const CLIP = 1;
const BITS = 16;
/** One step of the secure sum's quantization grid: [−c, c] in 2^b − 1 steps. */
const STEP = (2 * CLIP) / (2 ** BITS - 1);
const SCREENSHOT = resolve(import.meta.dirname, '../../../test-results/browser-demo.png');

/** Resolves on the first coordinator event that `match` accepts (subscribe before acting). */
function nextEvent<T extends CoordinatorEvent>(
  coordinator: Coordinator,
  match: (e: CoordinatorEvent) => e is T,
): Promise<T>;
function nextEvent(
  coordinator: Coordinator,
  match: (e: CoordinatorEvent) => boolean,
): Promise<CoordinatorEvent>;
function nextEvent(
  coordinator: Coordinator,
  match: (e: CoordinatorEvent) => boolean,
): Promise<CoordinatorEvent> {
  return new Promise((resolve) => {
    const off = coordinator.on((event) => {
      if (!match(event)) return;
      off();
      resolve(event);
    });
  });
}

describe('browser demo page in headless Chromium, beside two Node clients, secure aggregation on', () => {
  let browser: Browser;
  let coordinator: Coordinator;
  let demo: BrowserDemo;
  const globals = new Map<number, Float32Array>();
  const contributors = new Map<number, string[]>();
  const summaries = new Map<number, RoundSummary>();
  let nodes: ReturnType<typeof import('./browser-harness.js').recordingNodeClient>[] = [];

  beforeAll(async () => {
    await selectBackend('cpu');
    browser = await launchChromium();
    const clientToken = 'client-token-for-the-browser-e2e';
    demo = browserDemoFor({ clients: 2, scheme: { kind: 'iid' }, seed: SEED, clientToken });
    const test = toTensors(loadMnist().test);
    const evalModel = buildMnistMlp(SEED);
    evalModel.compile({ optimizer: 'sgd', loss: 'categoricalCrossentropy', metrics: ['accuracy'] });
    const evaluator = async (params: ModelParams, round: number) => {
      globals.set(round, flattenParams(params));
      evalModel.setWeights(params.map((p) => tf.tensor(p.values, p.shape)));
      const { loss, metrics } = await evaluateModel(evalModel, test);
      return { loss, accuracy: metrics.accuracy };
    };
    coordinator = await Coordinator.start({
      port: 0,
      apiToken: 'api-token-for-the-browser-e2e',
      clientToken,
      checkpointDir: mkdtempSync(join(tmpdir(), 'fedlearn-browser-e2e-')),
      logger: pino({ level: 'silent' }),
      evaluator: demo.observing(evaluator),
      extraRoutes: demo.routes,
    });
    demo.follow(coordinator);
    coordinator.on((event) => {
      if (event.type === 'fit_received')
        contributors.set(event.round, [...(contributors.get(event.round) ?? []), event.clientId]);
      if (event.type === 'round_completed') summaries.set(event.summary.round, event.summary);
    });
    nodes = [0, 1].map((index) =>
      recordingNodeClient({
        index,
        partitions: demo.partitions,
        seed: SEED,
        serverUrl: coordinator.url,
        token: clientToken,
      }),
    );
    await Promise.all(nodes.map((n) => n.client.start()));
  }, 120_000);

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.client.stop()));
    await browser?.close();
    await coordinator?.stop();
  });

  async function openPage(fragment: string): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1280, height: 760 } });
    page.on('pageerror', (error) => console.error('page error:', error.message));
    await page.goto(`${demo.url(coordinator.url)}&backend=wasm,cpu&record=1${fragment}`);
    return page;
  }

  async function joinJob(page: Page, clientId: string): Promise<void> {
    const joined = nextEvent(coordinator, (e) => e.type === 'client_joined' && e.clientId === clientId);
    await page.getByRole('button', { name: 'Join the job' }).click({ timeout: 60_000 });
    await joined;
  }

  function expectSecureSumMatchesPlain(round: number, fits: RecordedFit[]): void {
    const global = nodes[0]!.fits.find((f) => f.round === round)!.global!;
    for (const fit of fits)
      expect(maxAbsDifference(fit.delta, new Float32Array(fit.delta.length))).toBeLessThan(CLIP);
    const plain = plainAggregate(global, fits);
    const secure = globals.get(round)!;
    const difference = maxAbsDifference(secure, plain);
    expect(difference).toBeLessThanOrEqual(STEP);
    // The check has teeth: leaving one update out moves the mean by far more than a step.
    expect(maxAbsDifference(secure, plainAggregate(global, fits.slice(1)))).toBeGreaterThan(10 * STEP);
  }

  it('trains with the page among the contributors, survives its tab closing mid-round, and takes a new page', async () => {
    // Page 1 leaves as a closing tab does when its neighbours' shares arrive in round 3, before
    // its masked input: the others' inputs carry pairwise masks with it, which the coordinator
    // must remove with the shares of its masking key that the others hold.
    // Page 2 stays: a secure sum needs at least 3 updates, so without it round 3 could not finish.
    const page1 = await openPage('&leave=secagg/shares@3');
    await joinJob(page1, 'browser-1');
    const page2 = await openPage('');
    await joinJob(page2, 'browser-2');

    const rounds = 4;
    const finished = nextEvent(coordinator, (e) => e.type === 'job_finished');
    const page1Left = nextEvent(coordinator, (e) => e.type === 'client_left' && e.clientId === 'browser-1');
    const round3Started = nextEvent(coordinator, (e) => e.type === 'round_started' && e.round === 3);
    await coordinator.submitJob({
      name: 'mnist-mlp',
      rounds,
      seed: SEED,
      strategy: { fractionFit: 1, minFitClients: 3, minAvailableClients: 4 },
      secagg: { enabled: true, clip: CLIP, bits: BITS, stageTimeoutMs: 60_000 },
      fit: { localEpochs: 1, batchSize: 32, learningRate: 0.1 },
      roundTimeoutMs: 120_000,
    });

    await round3Started;
    await page1Left;
    const page1Fits = await pageFits(page1);
    await page1.close({ runBeforeUnload: true });
    // The next page gets the next slice of digits and is sampled in round 4.
    const page3 = await openPage('');
    await joinJob(page3, 'browser-3');
    const job = (await finished) as Extract<CoordinatorEvent, { type: 'job_finished' }>;

    expect(job.job.status).toBe('completed');
    expect(job.job.rounds.map((r) => [r.round, r.status])).toEqual([
      [1, 'ok'],
      [2, 'ok'],
      [3, 'ok'],
      [4, 'ok'],
    ]);
    const all = ['browser-1', 'browser-2', 'node-1', 'node-2'];
    expect([...(contributors.get(1) ?? [])].sort()).toEqual(all);
    expect([...(contributors.get(2) ?? [])].sort()).toEqual(all);
    expect([...(contributors.get(3) ?? [])].sort()).toEqual(['browser-2', 'node-1', 'node-2']);
    expect([...(contributors.get(4) ?? [])].sort()).toEqual(['browser-2', 'browser-3', 'node-1', 'node-2']);
    // Round 3 lost page 1 after the share stage and completed from the others.
    const round3 = summaries.get(3)!;
    expect(round3.sampled).toBe(4);
    expect(round3.completed).toBe(3);
    expect(round3.secagg?.stages.find((s) => s.stage === 'share-keys')).toMatchObject({
      expected: 4,
      answered: 4,
    });
    expect(round3.secagg?.stages.find((s) => s.stage === 'masked-input')).toMatchObject({
      expected: 4,
      answered: 3,
    });

    const page2Fits = await pageFits(page2);
    const page3Fits = await pageFits(page3);
    const byRound = (round: number, pages: RecordedFit[]) => [
      ...nodes.map((n) => n.fits.find((f) => f.round === round)!),
      ...pages.filter((f) => f.round === round),
    ];
    expect(page1Fits.map((f) => f.round)).toEqual([1, 2, 3]);
    expectSecureSumMatchesPlain(1, byRound(1, [...page1Fits, ...page2Fits]));
    expectSecureSumMatchesPlain(2, byRound(2, [...page1Fits, ...page2Fits]));
    // Page 1 trained in round 3 but left before its masked input: the sum is the others' alone.
    expectSecureSumMatchesPlain(3, byRound(3, page2Fits));
    expectSecureSumMatchesPlain(4, byRound(4, [...page2Fits, ...page3Fits]));

    // The page: the chart, the participants of each round, and a prediction for a drawn digit.
    await page3.waitForFunction(
      (round) =>
        (globalThis as unknown as { fedlearnDemo: { modelRound: number } }).fedlearnDemo.modelRound >= round,
      rounds,
      { timeout: 60_000 },
    );
    await expect.poll(() => page3.locator('#participants li').count()).toBe(rounds);
    await drawSeven(page3);
    await page3.waitForFunction(
      () =>
        (globalThis as unknown as { fedlearnDemo: { prediction?: number } }).fedlearnDemo.prediction !==
        undefined,
    );
    expect(await page3.locator('#probabilities li').count()).toBe(10);
    expect(await page3.locator('#participants li').first().textContent()).toContain('browser-3');
    mkdirSync(dirname(SCREENSHOT), { recursive: true });
    await page3.screenshot({ path: SCREENSHOT, fullPage: true });

    // Closing the tab for real leaves at once (pagehide), not at a heartbeat timeout.
    const page3Left = nextEvent(coordinator, (e) => e.type === 'client_left' && e.clientId === 'browser-3');
    await page3.close({ runBeforeUnload: true });
    await page3Left;
  }, 600_000);
});

/** Draws a 7 on the page's pad with the mouse. */
async function drawSeven(page: Page): Promise<void> {
  const box = (await page.locator('#pad').boundingBox())!;
  const at = (x: number, y: number) => [box.x + x * box.width, box.y + y * box.height] as const;
  await page.mouse.move(...at(0.25, 0.2));
  await page.mouse.down();
  await page.mouse.move(...at(0.75, 0.2), { steps: 8 });
  await page.mouse.move(...at(0.45, 0.85), { steps: 8 });
  await page.mouse.up();
}
