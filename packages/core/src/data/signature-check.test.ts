import { describe, expect, it } from 'vitest';
import { isFedlearnError } from '../errors.js';
import type { LayersModelLike, TensorLike, TfApi } from '../tfjs/index.js';
import { LayersTrainer } from '../tfjs/layers-trainer.js';
import { checkAgainstSignature } from './signature-check.js';

const SIGNATURE = { dtype: 'float32', shape: [-1, 4] };

function refusal(run: () => unknown): { field: string; message: string } {
  try {
    run();
  } catch (error) {
    if (isFedlearnError(error, 'INPUT_SIGNATURE_MISMATCH')) {
      return { field: String(error.details['field']), message: error.message };
    }
    throw error;
  }
  throw new Error('expected INPUT_SIGNATURE_MISMATCH');
}

describe('checkAgainstSignature (the one input check serving and training share)', () => {
  it('accepts a matching tensor and returns its rows', () => {
    expect(
      checkAgainstSignature(
        SIGNATURE,
        { dtype: 'float32', shape: [2, 4], values: new Float32Array(8) },
        { field: 'x' },
      ),
    ).toEqual({ rows: 2 });
    // A tfjs model's input marks the batch with null.
    expect(
      checkAgainstSignature(
        { dtype: 'float32', shape: [null, 4] },
        { dtype: 'float32', shape: [3, 4] },
        { field: 'x' },
      ),
    ).toEqual({
      rows: 3,
    });
  });

  it('names the field and why for each kind of mismatch, never the values', () => {
    const check = (
      tensor: { dtype: string; shape: number[]; values?: ArrayLike<number> },
      maxRows?: number,
    ) =>
      refusal(() =>
        checkAgainstSignature(SIGNATURE, tensor, {
          field: 'inputs[0]',
          dtypeField: 'datatype',
          valuesField: 'data',
          ...(maxRows ? { maxRows } : {}),
        }),
      );
    expect(check({ dtype: 'int32', shape: [1, 4] })).toEqual({
      field: 'inputs[0].datatype',
      message: 'inputs[0].datatype: the model takes float32, got int32',
    });
    expect(check({ dtype: 'float32', shape: [4] }).field).toBe('inputs[0].shape');
    expect(check({ dtype: 'float32', shape: [1, 5] }).message).toBe('inputs[0].shape[1]: expected 4, got 5');
    expect(check({ dtype: 'float32', shape: [0, 4] }).message).toBe(
      'inputs[0].shape[0]: expected a positive size, got 0',
    );
    expect(check({ dtype: 'float32', shape: [9, 4] }, 8).message).toBe(
      'inputs[0].shape[0]: at most 8 instances per request',
    );
    expect(check({ dtype: 'float32', shape: [2, 4], values: [1, 2, 3] }).message).toBe(
      'inputs[0].data: shape [2,4] needs 8 values, got 3',
    );
    const secret = 12345.678;
    const nan = check({ dtype: 'float32', shape: [1, 4], values: [secret, Number.NaN, 0, 0] });
    expect(nan).toEqual({ field: 'inputs[0].data[1]', message: 'inputs[0].data[1]: not a finite number' });
    expect(nan.message).not.toContain(String(secret));
  });

  it('the training side refuses local data the model could not be served on (LayersTrainer)', () => {
    const tensor = (shape: number[], dtype = 'float32'): TensorLike => {
      const values = new Float32Array(shape.reduce((n, d) => n * d, 1));
      return { shape, dtype, dataSync: () => values, data: async () => values };
    };
    const model = {
      inputs: [{ dtype: 'float32', shape: [null, 4] }],
      weights: [],
    } as unknown as LayersModelLike;
    const tf = { getBackend: () => 'cpu' } as unknown as TfApi;
    const trainer = (x: TensorLike, evaluation?: TensorLike) =>
      new LayersTrainer({
        tf,
        model,
        train: { x, y: tensor([x.shape[0]!, 3]) },
        ...(evaluation ? { evaluation: { x: evaluation, y: tensor([evaluation.shape[0]!, 3]) } } : {}),
      });
    expect(trainer(tensor([5, 4])).numExamples).toBe(5);
    expect(trainer(tensor([0, 4])).numExamples).toBe(0);
    expect(refusal(() => trainer(tensor([5, 3]))).message).toBe('train.x.shape[1]: expected 4, got 3');
    expect(refusal(() => trainer(tensor([5, 4], 'int32'))).field).toBe('train.x.dtype');
    expect(refusal(() => trainer(tensor([5, 4]), tensor([2, 2, 2]))).field).toBe('evaluation.x.shape');
  });
});
