import { FedlearnError, type LabelledTensors, type TensorLike, type TfApi } from '@fedlearn/core';

/** Numbers in example-major order, with the shape of one example's features and targets. */
export interface LabelledArrays {
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  featureShape: number[];
  targetShape: number[];
}

/** An IndexedDB object store whose records hold `{ x: number[] | Float32Array, y: ... }`. */
export interface IndexedDbSource {
  database: string;
  store: string;
  featureShape: number[];
  targetShape: number[];
  /** The IndexedDB factory (default: the page's `indexedDB`). */
  factory?: IDBFactory;
}

/** Where a page's local data comes from: tensors it built, plain arrays, or IndexedDB records. */
export type BrowserData =
  | { tensors: LabelledTensors }
  | { arrays: LabelledArrays }
  | { indexedDb: IndexedDbSource };

/** The data as tensors on the page's tfjs; validated, so a bad record fails here and not mid-round. */
export async function loadBrowserData(tf: TfApi, data: BrowserData): Promise<LabelledTensors> {
  if ('tensors' in data) return data.tensors;
  const arrays = 'arrays' in data ? data.arrays : await readIndexedDb(data.indexedDb);
  return tensorsFromArrays(tf, arrays);
}

export function tensorsFromArrays(tf: TfApi, arrays: LabelledArrays): LabelledTensors {
  const perX = size(arrays.featureShape);
  const perY = size(arrays.targetShape);
  const count = arrays.x.length / perX;
  if (!Number.isInteger(count) || arrays.y.length !== count * perY) {
    throw new FedlearnError(
      'INVALID_ARGUMENT',
      `x holds ${arrays.x.length} values and y ${arrays.y.length}: not whole examples of ` +
        `[${arrays.featureShape}] and [${arrays.targetShape}]`,
    );
  }
  const x = Float32Array.from(arrays.x);
  const y = Float32Array.from(arrays.y);
  if (!x.every(Number.isFinite) || !y.every(Number.isFinite)) {
    throw new FedlearnError('INVALID_ARGUMENT', 'the local data holds non-finite values');
  }
  return {
    x: tf.tensor(x, [count, ...arrays.featureShape], 'float32') as TensorLike,
    y: tf.tensor(y, [count, ...arrays.targetShape], 'float32') as TensorLike,
  };
}

/** Reads every record of the store into example-major arrays. */
export async function readIndexedDb(source: IndexedDbSource): Promise<LabelledArrays> {
  const factory = source.factory ?? globalThis.indexedDB;
  const db = await request(factory.open(source.database));
  try {
    const records = await request<unknown[]>(
      db.transaction(source.store, 'readonly').objectStore(source.store).getAll(),
    );
    const perX = size(source.featureShape);
    const perY = size(source.targetShape);
    const x = new Float32Array(records.length * perX);
    const y = new Float32Array(records.length * perY);
    records.forEach((record, i) => {
      const { x: rx, y: ry } = (record ?? {}) as { x?: ArrayLike<number>; y?: ArrayLike<number> };
      if (rx?.length !== perX || ry?.length !== perY) {
        throw new FedlearnError(
          'INVALID_ARGUMENT',
          `IndexedDB record ${i} of ${source.store} is not { x: [${perX} numbers], y: [${perY} numbers] }`,
        );
      }
      x.set(rx, i * perX);
      y.set(ry, i * perY);
    });
    return { x, y, featureShape: source.featureShape, targetShape: source.targetShape };
  } finally {
    db.close();
  }
}

function request<T>(req: IDBRequest<T> | IDBOpenDBRequest): Promise<T> {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result as T);
    req.onerror = () =>
      reject(new FedlearnError('INVALID_ARGUMENT', `IndexedDB: ${req.error?.message ?? 'request failed'}`));
  });
}

function size(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
