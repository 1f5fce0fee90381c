import { join } from 'node:path';
import { FederatedClient, selectBackend, TfjsTrainer } from '@fedlearn/client-node';
import * as tf from '@tensorflow/tfjs-core';
import { readSite } from './csv.js';
import { buildModel, CLASSES } from './model.js';

// One site's client: SITE=a|b|c, its rows of the CSV (another file with DATA=path).
await selectBackend();
const site = process.env.SITE ?? 'a';
const { features, labels } = readSite(
  process.env.DATA ?? join(import.meta.dirname, 'data/sensors.csv'),
  site,
);
const split = Math.floor(features.length * 0.8); // the last 20% is held out for federated evaluation
const tensors = (from: number, to?: number) => ({
  x: tf.tensor2d(features.slice(from, to)),
  y: tf.cast(tf.oneHot(tf.tensor1d(labels.slice(from, to), 'int32'), CLASSES.length), 'float32'),
});

const client = new FederatedClient({
  serverUrl: process.env.FEDLEARN_SERVER ?? 'http://127.0.0.1:8700',
  token: process.env.FEDLEARN_CLIENT_TOKEN!,
  clientId: `site-${site}`,
  trainer: new TfjsTrainer({ model: buildModel(), train: tensors(0, split), evaluation: tensors(split) }),
});
console.log(`site-${site}: ${split} training and ${features.length - split} held-out rows`);
await client.start();
await client.done;
