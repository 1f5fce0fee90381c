import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { float32ToBytes } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { runPredictCommand } from './predict.js';

let home: string;
beforeEach(async () => {
  home = await mkdtemp(join(tmpdir(), 'fedlearn-cli-predict-'));
});
afterEach(async () => {
  await rm(home, { recursive: true, force: true });
});

// One softmax layer whose kernel copies features 0..2 to the three classes: the class is the index of
// the largest of the first three features, which the test can say without running a model.
const KERNEL = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0];
const artifacts = {
  modelTopology: {
    class_name: 'Sequential',
    config: {
      name: 'picker',
      layers: [
        {
          class_name: 'Dense',
          config: {
            name: 'dense',
            units: 3,
            activation: 'softmax',
            use_bias: true,
            batch_input_shape: [null, 4],
          },
        },
      ],
    },
  },
  weightSpecs: [
    { name: 'dense/kernel', shape: [4, 3], dtype: 'float32' as const },
    { name: 'dense/bias', shape: [3], dtype: 'float32' as const },
  ],
  weightData: float32ToBytes(Float32Array.from([...KERNEL, 0, 0, 0])),
};

async function register(): Promise<void> {
  const lifecycle = createModelLifecycle(resolveLifecycleConfig({}, { home }));
  const run = await lifecycle.startRun({
    jobId: 'j1',
    modelName: 'picker',
    strategy: 'fedavg',
    rounds: 1,
    clients: 2,
    secureAggregation: false,
  });
  await run.registerVersion(artifacts, { round: 1, metrics: { accuracy: 0.9 } });
  await run.finish();
  await lifecycle.close();
}

async function cli(args: string[], tty = false) {
  let out = '';
  let err = '';
  const io = {
    stdout: (s: string) => (out += s),
    stderr: (s: string) => (err += s),
    env: { FEDLEARN_HOME: home },
    cwd: home,
  };
  const code = await runPredictCommand([...args, '--backend', 'cpu'], io, tty);
  return { code, out, err };
}

describe('fedlearn predict (a model registered in a local registry, served by the serving core)', () => {
  it('predicts a JSONL file with the champion: version on every row, bad rows named, a summary', async () => {
    await register();
    const input = join(home, 'rows.jsonl');
    await writeFile(
      input,
      [
        '[5, 1, 0, 9]',
        '{"id": "second", "features": [0, 0, 7, 0]}',
        '[1, 2]',
        '{"features": [0, 3, 1, 0]}',
      ].join('\n'),
    );
    const output = join(home, 'out.jsonl');
    const { code, out, err } = await cli([
      '--model',
      'models:/picker@champion',
      '--input',
      input,
      '--output',
      output,
    ]);
    expect(code).toBe(0);
    const rows = (await readFile(output, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(rows.map((r) => [r.line, r.id, r.model, r.version, r.class])).toEqual([
      [1, undefined, 'picker', '1', 0],
      [2, 'second', 'picker', '1', 2],
      [4, undefined, 'picker', '1', 1],
    ]);
    expect(err).toBe(`bad row ${input}:3: 2 values, the model takes 4\n`);
    expect(out).toMatch(/^predicted 3 of 4 rows from 1 file\(s\) with picker v1 \(3 rows\)\n1 bad row\(s\);/);
  });

  it('reads a directory of labelled CSV files and reports accuracy as JSON', async () => {
    await register();
    const dir = join(home, 'inputs');
    await mkdir(dir);
    await writeFile(join(dir, 'a.csv'), 'f0,f1,f2,f3,label\n9,0,0,0,0\n0,9,0,0,1\n');
    await writeFile(join(dir, 'b.csv'), 'f0,f1,f2,f3,label\n0,0,9,0,0\n');
    const output = join(home, 'out.csv');
    const { code, out } = await cli([
      '--model',
      'models:/picker/1',
      '--input',
      dir,
      '--output',
      output,
      '--json',
    ]);
    expect(code).toBe(0);
    const summary = JSON.parse(out);
    expect(summary).toMatchObject({ files: 2, rows: 3, predicted: 3, bad: 0, labelled: 3, correct: 2 });
    expect(summary.versions).toEqual({ '1': 3 });
    expect((await readFile(output, 'utf8')).split('\n')[0]).toBe('file,line,id,model,version,class,p0,p1,p2');
  });

  it('draws a progress bar on a TTY, ending at 100%', async () => {
    await register();
    const input = join(home, 'rows.jsonl');
    await writeFile(input, '[1, 0, 0, 0]\n[0, 1, 0, 0]\n');
    const { code, err } = await cli(
      ['--model', 'models:/picker', '--input', input, '--output', join(home, 'o.jsonl')],
      true,
    );
    expect(code).toBe(0);
    expect(err).toMatch(/\r\[#{30}\] 100% {2}2 rows\n$/);
  });

  it('without --model, --input or --output it prints usage and exits 2', async () => {
    const { code, err } = await cli(['--model', 'models:/picker']);
    expect(code).toBe(2);
    expect(err).toMatch(/--model, --input and --output are required/);
  });
});
