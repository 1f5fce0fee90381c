import type { TfApi } from '@fedlearn/core';
import { describe, expect, it } from 'vitest';
import { tensorsFromArrays } from './data.js';

/** Records what would become tensors: enough to check shapes and validation without tfjs. */
const fakeTf = {
  tensor: (values: Float32Array, shape: number[]) => ({ values, shape, dtype: 'float32' }),
} as unknown as TfApi;

describe('tensorsFromArrays', () => {
  it('shapes whole examples', () => {
    const { x, y } = tensorsFromArrays(fakeTf, {
      x: [1, 2, 3, 4, 5, 6],
      y: [1, 0, 0, 1, 1, 0],
      featureShape: [2],
      targetShape: [2],
    });
    expect(x.shape).toEqual([3, 2]);
    expect(y.shape).toEqual([3, 2]);
  });

  it('refuses partial examples and non-finite values with INVALID_ARGUMENT', () => {
    expect(() =>
      tensorsFromArrays(fakeTf, { x: [1, 2, 3], y: [1, 0], featureShape: [2], targetShape: [1] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() =>
      tensorsFromArrays(fakeTf, { x: [1, Number.NaN], y: [1], featureShape: [2], targetShape: [1] }),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
