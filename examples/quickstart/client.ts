import { FederatedClient, selectBackend, TfjsTrainer } from '@fedlearn/client-node';
import * as tf from '@tensorflow/tfjs-core';
import * as tfl from '@tensorflow/tfjs-layers';

await selectBackend(); // tfjs-node if installed, else wasm, else cpu
const site = Number(process.env.SITE ?? 0);

// Your model: name the layers, the coordinator checks every update against them.
const model = tfl.sequential({
  layers: [
    tfl.layers.dense({ name: 'hidden', inputShape: [2], units: 8, activation: 'relu' }),
    tfl.layers.dense({ name: 'output', units: 2, activation: 'softmax' }),
  ],
});
// Your data, which never leaves this process: 200 points per site, label = above the diagonal.
const points = Array.from({ length: 200 }, (_, i) => [(i * 37 + site) % 100, (i * 61 + 3 * site) % 100]);
const labels = points.map(([a, b]) => (a! + b! > 100 ? 1 : 0));
const data = (from: number, to: number) => ({
  x: tf.div(tf.tensor2d(points.slice(from, to)), 100),
  y: tf.cast(tf.oneHot(tf.tensor1d(labels.slice(from, to), 'int32'), 2), 'float32'),
});

const client = new FederatedClient({
  serverUrl: process.env.FEDLEARN_SERVER ?? 'http://127.0.0.1:8700',
  token: process.env.FEDLEARN_CLIENT_TOKEN!,
  clientId: `site-${site}`,
  trainer: new TfjsTrainer({ model, train: data(0, 160), evaluation: data(160, 200) }),
});
await client.start(); // trains whenever the coordinator asks; reconnects on its own
await client.done; // until Ctrl-C, client.stop(), or a fatal refusal
