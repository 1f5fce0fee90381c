import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';
import '@tensorflow/tfjs-backend-cpu';
import {
  decodeParams,
  decodeSecAggMessage,
  flattenParams,
  type LayersModelLike,
  LayersTrainer,
  type ModelParams,
  type TfApi,
  type Trainer,
} from '@fedlearn/core';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { BROWSER_BACKEND_ORDER, selectBrowserBackend } from '../backend.js';
import { BrowserClient } from '../browser-client.js';
import { tensorsFromArrays } from '../data.js';
import type { BrowserClientEvent } from '../progress.js';
import { type DemoSession, type DemoState, decodeDigitSlice } from './api.js';
import { drawRoundChart } from './chart.js';
import { DrawingPad } from './drawing-pad.js';
import { escapeHtml } from './html.js';

const NUM_CLASSES = 10;
const tfApi = tf as unknown as TfApi;
const params = new URLSearchParams(location.hash.slice(1));
const token = params.get('token') ?? '';
const el = (id: string) => document.getElementById(id) as HTMLElement;

/** What the page shows, also readable by tests (`window.fedlearnDemo`). */
const view = {
  state: 'idle' as string,
  clientId: undefined as string | undefined,
  backend: undefined as string | undefined,
  modelRound: 0,
  prediction: undefined as number | undefined,
  /** This page's updates (trained − global) per round, kept only with `#record=1` in the URL. */
  fits: [] as { round: number; numExamples: number; delta: number[] }[],
  error: undefined as string | undefined,
};
(globalThis as { fedlearnDemo?: typeof view }).fedlearnDemo = view;

async function api<T>(path: string, kind: 'json' | 'bytes' = 'json'): Promise<T> {
  const response = await fetch(`/demo/api/${path}`, { headers: { authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return (kind === 'json' ? response.json() : new Uint8Array(await response.arrayBuffer())) as Promise<T>;
}

function showError(error: unknown): void {
  view.error = (error as Error).message;
  el('error').textContent = view.error;
  el('error').hidden = false;
}

function showState(state: string, round?: number): void {
  view.state = state;
  const label = state.startsWith('secagg:') ? `secure aggregation: ${state.slice(7)}` : state;
  el('state').textContent = label;
  el('state').dataset.state = state;
  if (round !== undefined) el('round').textContent = String(round);
}

let session: DemoSession | undefined;
let predictor: tfl.LayersModel | undefined;
let pad: DrawingPad | undefined;
let client: BrowserClient | undefined;

async function main(): Promise<void> {
  if (!token) throw new Error('open the URL the demo printed: it carries the demo token (#token=…)');
  setWasmPaths('/demo/vendor/');
  const order = params.get('backend')?.split(',') ?? [...BROWSER_BACKEND_ORDER];
  view.backend = await selectBrowserBackend(tf, order);
  el('backend').textContent = view.backend;
  session = await api<DemoSession>('session');
  predictor = await tfl.models.modelFromJSON({ modelTopology: session.modelTopology } as never);
  pad = new DrawingPad(el('pad') as HTMLCanvasElement, () => void predict());
  el('clear').addEventListener('click', () => {
    pad?.clear();
    view.prediction = undefined;
    el('prediction').textContent = '—';
    el('probabilities').replaceChildren();
  });
  el('join').addEventListener('click', () => void join().catch(showError), { once: true });
  (el('join') as HTMLButtonElement).disabled = false;
  await followGlobal();
}

async function join(): Promise<void> {
  const s = session as DemoSession;
  (el('join') as HTMLButtonElement).disabled = true;
  showState('connecting');
  const digits = decodeDigitSlice(await api<Uint8Array>(`data/${s.slice}`, 'bytes'));
  const labels = new Float32Array(digits.labels.length * NUM_CLASSES);
  digits.labels.forEach((label, i) => {
    labels[i * NUM_CLASSES + label] = 1;
  });
  const train = tensorsFromArrays(tfApi, {
    x: digits.images,
    y: labels,
    featureShape: [digits.features],
    targetShape: [NUM_CLASSES],
  });
  el('examples').textContent = `${digits.labels.length} digits`;
  el('client-id').textContent = s.clientId;
  view.clientId = s.clientId;
  const model = (await tfl.models.modelFromJSON({ modelTopology: s.modelTopology } as never)) as unknown;
  const layers = new LayersTrainer({
    tf: tfApi,
    model: model as LayersModelLike,
    train,
    backend: view.backend as string,
    onEpoch: ({ epoch, epochs, loss }) => {
      el('epoch').textContent = `${epoch} / ${epochs}`;
      el('local-loss').textContent = loss.toFixed(4);
    },
  });
  client = new BrowserClient({
    serverUrl: location.origin,
    token: s.clientToken,
    clientId: s.clientId,
    training: { trainer: params.get('record') === '1' ? recording(layers) : layers },
    onEvent: onClientEvent,
  });
  await client.start();
}

let currentRound: number | undefined;
/**
 * `#leave=MESSAGE@ROUND`: leave as a closing tab does when a given secure-aggregation message
 * arrives in a given round, e.g. `secagg/shares@3` (for dropout tests and demos).
 */
const leaveAt = params.get('leave');

function onClientEvent(event: BrowserClientEvent): void {
  if (event.type === 'fit_start') currentRound = event.round;
  if (event.type === 'state') showState(event.state, event.round);
  if (event.type === 'message_received' && leaveAt && leavesOn(event.message)) client?.pause();
  if (event.type === 'task_failed' || event.type === 'server_error') showError(new Error(event.message));
}

function leavesOn(message: unknown): boolean {
  const m = message as { type?: string; round?: number; params?: Uint8Array };
  if (m.type !== 'secagg' || !m.params) return false;
  const type = (decodeSecAggMessage(m.params) as { type?: string }).type;
  return leaveAt === `${type}@${m.round}`;
}

/** The trainer, keeping each round's update so a test can recompute the aggregate in the clear. */
function recording(inner: Trainer): Trainer {
  return {
    numExamples: inner.numExamples,
    numEvalExamples: inner.numEvalExamples,
    backend: inner.backend,
    ...(inner.dataFingerprint ? { dataFingerprint: inner.dataFingerprint } : {}),
    specs: () => inner.specs(),
    getParameters: () => inner.getParameters(),
    evaluate: (p, c) => inner.evaluate(p, c),
    async fit(global, config) {
      const outcome = await inner.fit(global, config);
      const trained = flattenParams(outcome.params);
      const base = flattenParams(global);
      const delta = Array.from(trained, (v, i) => v - (base[i] as number));
      view.fits.push({ round: currentRound ?? 0, numExamples: outcome.numExamples, delta });
      return outcome;
    },
  };
}

/** Polls the job's state (a page is a viewer here, not a test: a steady refresh is what it wants). */
async function followGlobal(): Promise<void> {
  const refresh = async () => {
    const state = await api<DemoState>('state');
    drawRoundChart(el('chart') as HTMLCanvasElement, state.rounds, state.job?.rounds ?? state.rounds.length);
    el('participants').replaceChildren(
      ...[...state.rounds].reverse().map((r) => {
        const li = document.createElement('li');
        li.value = r.round;
        const who = r.participants.map(
          (p) =>
            `<span class="${p.runtime === 'browser' ? 'browser-tag' : 'node-tag'}">${escapeHtml(p.clientId)}</span>`,
        );
        li.innerHTML = `${r.status === 'ok' ? '' : `${escapeHtml(r.status)}: `}${who.join(' ') || '—'}`;
        return li;
      }),
    );
    if (state.modelRound > view.modelRound) await loadGlobal(state.modelRound);
  };
  await refresh().catch(showError);
  setInterval(() => void refresh().catch(showError), 1000);
}

async function loadGlobal(round: number): Promise<void> {
  const global: ModelParams = decodeParams(await api<Uint8Array>('model', 'bytes'), { maxBytes: 64 << 20 });
  const tensors = global.map((p) => tf.tensor(p.values, p.shape, 'float32'));
  predictor?.setWeights(tensors);
  tf.dispose(tensors);
  view.modelRound = round;
  el('model-round').textContent = String(round);
  await predict();
}

async function predict(): Promise<void> {
  const pixels = pad?.pixels();
  if (!predictor || !pixels || view.modelRound === 0) return;
  const output = tf.tidy(() => predictor!.predict(tf.tensor(pixels, [1, pixels.length])) as tf.Tensor);
  const probabilities = Array.from(await output.data());
  output.dispose();
  const best = probabilities.indexOf(Math.max(...probabilities));
  view.prediction = best;
  el('prediction').textContent = `${best} (${(probabilities[best]! * 100).toFixed(1)}%)`;
  el('probabilities').replaceChildren(
    ...probabilities.map((p) => {
      const li = document.createElement('li');
      li.innerHTML = `${(p * 100).toFixed(1)}%<span style="width:${Math.round(p * 150)}px"></span>`;
      return li;
    }),
  );
}

main().catch(showError);
