import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FedlearnError } from '@fedlearn/core';
import { beforeEach, describe, expect, it } from 'vitest';
import { type BadRow, batchPredict } from '../../src/predict/batch-predict.js';
import { directPredict, TinyModelService } from '../support/tiny-model-service.js';

const A = [0.1, 0.2, 0.3, 0.4];
const B = [1, -1, 0.5, 2];
const C = [-2, 0, 3, 1];

function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if (values[i]! > values[best]!) best = i;
  return best;
}

describe('offline batch prediction over JSONL and CSV', () => {
  let dir: string;
  let service: TinyModelService;
  let bad: BadRow[];

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'fedlearn-predict-'));
    service = new TinyModelService();
    bad = [];
  });

  const expectedClass = (row: number[]) => argmax(directPredict(service.models.get('tiny')!.model, [row]));
  const jsonLines = (path: string) =>
    readFileSync(path, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));

  it('predicts JSONL rows in their forms, writes model and version on every row, reports bad rows by line', async () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(
      input,
      [
        JSON.stringify(A),
        JSON.stringify({ id: 'b', features: B, label: expectedClass(B) }),
        '{"features": [1, 2',
        JSON.stringify({ features: [1, 2, 3] }),
        '',
        JSON.stringify({ features: [1, 'x', 3, 4] }),
        JSON.stringify({ instance: C, label: (expectedClass(C) + 1) % 3 }),
      ].join('\n'),
    );
    const output = join(dir, 'out.jsonl');
    const summary = await batchPredict(service, {
      model: 'tiny',
      inputs: [input],
      output,
      batchSize: 2,
      onBadRow: (b) => bad.push(b),
    });
    expect(summary).toEqual({
      files: 1,
      rows: 6,
      predicted: 3,
      bad: 3,
      versions: { '1': 3 },
      labelled: 2,
      correct: 1,
    });
    expect(bad).toEqual([
      { file: input, line: 3, reason: 'not valid JSON' },
      { file: input, line: 4, reason: '3 values, the model takes 4' },
      { file: input, line: 6, reason: 'value 2 is not a finite number' },
    ]);
    const rows = jsonLines(output);
    expect(rows.map((r) => [r.line, r.id, r.model, r.version, r.class])).toEqual([
      [1, undefined, 'tiny', '1', expectedClass(A)],
      [2, 'b', 'tiny', '1', expectedClass(B)],
      [7, undefined, 'tiny', '1', expectedClass(C)],
    ]);
    expect(rows[0].probabilities).toEqual(Array.from(directPredict(service.models.get('tiny')!.model, [A])));
  });

  it('reads CSV by header (id and label columns kept out of the features) and writes CSV', async () => {
    const input = join(dir, 'in.csv');
    writeFileSync(
      input,
      [
        'id,f0,f1,f2,f3,label',
        `r1,${A.join(',')},0`,
        'r2,1,oops,3,4,0',
        'r3,1,2',
        `"r,4",${B.join(',')},1`,
        '"r5,1,2,3,4,0',
      ].join('\n'),
    );
    const output = join(dir, 'out.csv');
    const summary = await batchPredict(service, {
      model: 'tiny',
      inputs: [input],
      output,
      onBadRow: (b) => bad.push(b),
    });
    expect(summary.predicted).toBe(2);
    expect(bad.map((b) => [b.line, b.reason])).toEqual([
      [3, 'column 3 is not a finite number'],
      [4, '3 columns, the header has 6'],
      [6, 'unterminated quote'],
    ]);
    const lines = readFileSync(output, 'utf8').trim().split('\n');
    expect(lines[0]).toBe('file,line,id,model,version,class,p0,p1,p2');
    expect(lines[1]!.startsWith(`in.csv,2,r1,tiny,1,${expectedClass(A)},`)).toBe(true);
    expect(lines[2]!.startsWith(`in.csv,5,"r,4",tiny,1,${expectedClass(B)},`)).toBe(true);
  });

  it('looks features up by the signature names, and reads a directory in name order', async () => {
    service.featureNames = ['a', 'b', 'c', 'd'];
    const inputs = join(dir, 'inputs');
    mkdirSync(inputs);
    writeFileSync(
      join(inputs, '2.jsonl'),
      `${JSON.stringify({ d: A[3], c: A[2], b: A[1], a: A[0] })}\n${JSON.stringify({ a: 1 })}\n`,
    );
    writeFileSync(join(inputs, '1.csv'), `d,c,b,a\n${[...B].reverse().join(',')}\n`);
    writeFileSync(join(inputs, 'notes.txt'), 'ignored');
    const output = join(dir, 'out.jsonl');
    const summary = await batchPredict(service, {
      model: 'tiny',
      inputs: [inputs],
      output,
      onBadRow: (b) => bad.push(b),
    });
    expect(summary).toMatchObject({ files: 2, rows: 3, predicted: 2, bad: 1 });
    expect(bad[0]!.reason).toBe('feature "b" is missing');
    expect(jsonLines(output).map((r) => [r.file, r.class])).toEqual([
      ['1.csv', expectedClass(B)],
      ['2.jsonl', expectedClass(A)],
    ]);
  });

  it('names the version that produced each row when the model is swapped mid-run', async () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, Array.from({ length: 6 }, () => JSON.stringify(A)).join('\n'));
    const infer = service.infer.bind(service);
    let batches = 0;
    service.infer = async (request, options) => {
      const result = await infer(request, options);
      batches += 1;
      if (batches === 1) service.swap('tiny', '2', 7);
      return result;
    };
    const output = join(dir, 'out.jsonl');
    const summary = await batchPredict(service, { model: 'tiny', inputs: [input], output, batchSize: 2 });
    expect(summary.versions).toEqual({ '1': 2, '2': 4 });
    expect(jsonLines(output).map((r) => r.version)).toEqual(['1', '1', '2', '2', '2', '2']);
  });

  it('a row the service refuses is reported with the error code, and the rest of its batch is predicted', async () => {
    const input = join(dir, 'in.jsonl');
    writeFileSync(input, [A, B, C].map((r) => JSON.stringify(r)).join('\n'));
    const infer = service.infer.bind(service);
    // The service refuses any batch holding row B (the only row with a -1).
    service.infer = async (request, options) => {
      if (request.inputs[0]!.data.includes(-1))
        throw new FedlearnError('INPUT_SIGNATURE_MISMATCH', 'refused');
      return infer(request, options);
    };
    const output = join(dir, 'out.jsonl');
    const summary = await batchPredict(service, {
      model: 'tiny',
      inputs: [input],
      output,
      onBadRow: (b) => bad.push(b),
    });
    expect(summary).toMatchObject({ predicted: 2, bad: 1 });
    expect(bad).toEqual([{ file: input, line: 2, reason: 'INPUT_SIGNATURE_MISMATCH: refused' }]);
    expect(jsonLines(output).map((r) => r.line)).toEqual([1, 3]);
  });
});
