import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { FedlearnError, toFedlearnError } from '@fedlearn/core';
import type { InferenceService } from '../inference/contract.js';
import { formatOf, type InputRecord, readRecords } from './input-records.js';
import { PredictionWriter } from './prediction-writer.js';

export interface BatchPredictOptions {
  /** The served model's name. */
  model: string;
  /** Input files, or directories whose .jsonl/.csv files are read in name order. */
  inputs: string[];
  output: string;
  /** Rows per inference call. Default 256. */
  batchSize?: number;
  /** Called as input bytes are read: for a progress bar. */
  onProgress?: (progress: { bytesRead: number; totalBytes: number; rows: number }) => void;
  /** Called for every row that could not be predicted, with where and why. */
  onBadRow?: (bad: BadRow) => void;
}

export interface BadRow {
  file: string;
  line: number;
  reason: string;
}

export interface BatchPredictSummary {
  files: number;
  rows: number;
  predicted: number;
  bad: number;
  /** Rows predicted per model version (a swap mid-run shows as two versions). */
  versions: Record<string, number>;
  /** Rows that had a label, and how many of those were predicted right. */
  labelled: number;
  correct: number;
}

/** The input files: files as given, directories expanded to their .jsonl/.ndjson/.json/.csv files. */
export async function listInputFiles(inputs: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const input of inputs) {
    const info = await stat(input).catch(() => {
      throw new FedlearnError('INVALID_ARGUMENT', `input ${input} does not exist`);
    });
    if (info.isDirectory()) {
      const names = (await readdir(input)).filter((n) => /\.(jsonl|ndjson|json|csv)$/i.test(n)).sort();
      files.push(...names.map((n) => join(input, n)));
    } else files.push(input);
  }
  if (files.length === 0) throw new FedlearnError('INVALID_ARGUMENT', 'no .jsonl or .csv input files');
  return files;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i += 1) if (values[i]! > values[best]!) best = i;
  return best;
}

/**
 * Offline prediction over JSONL/CSV files, streaming: a batch of rows at a time, so memory does not grow
 * with the input. Bad rows are reported (file, line, why) and skipped; they never stop the run.
 *
 * @example
 * const summary = await batchPredict(service, { model: 'mnist-mlp', inputs: ['digits.csv'], output: 'out.jsonl' });
 */
export async function batchPredict(
  service: InferenceService,
  options: BatchPredictOptions,
): Promise<BatchPredictSummary> {
  const files = await listInputFiles(options.inputs);
  const info = service.modelInfo(options.model);
  const spec = info.inputs[0]!;
  const width = spec.shape.slice(1).reduce((n, d) => n * d, 1);
  const batchSize = options.batchSize ?? 256;
  const sizes = await Promise.all(files.map(async (f) => (await stat(f)).size));
  const totalBytes = sizes.reduce((a, b) => a + b, 0);
  const writer = new PredictionWriter(options.output, formatOf(options.output));
  const summary: BatchPredictSummary = {
    files: files.length,
    rows: 0,
    predicted: 0,
    bad: 0,
    versions: {},
    labelled: 0,
    correct: 0,
  };
  let bytesBefore = 0;

  const reportBad = (file: string, line: number, reason: string) => {
    summary.bad += 1;
    options.onBadRow?.({ file, line, reason });
  };

  async function run(file: string, batch: InputRecord[]): Promise<void> {
    const data = new Float32Array(batch.length * width);
    for (const [i, r] of batch.entries()) data.set(r.values!, i * width);
    try {
      const result = await service.infer({
        model: options.model,
        inputs: [{ name: spec.name, datatype: 'FP32', shape: [batch.length, ...spec.shape.slice(1)], data }],
      });
      const output = result.outputs[0]!;
      const classes = output.data.length / batch.length;
      for (const [i, record] of batch.entries()) {
        const probabilities = output.data.subarray(i * classes, (i + 1) * classes);
        const predicted = argmax(probabilities);
        await writer.write({
          file: basename(file),
          line: record.line,
          ...(record.id === undefined ? {} : { id: record.id }),
          model: result.model,
          version: result.version,
          class: predicted,
          probabilities,
        });
        summary.predicted += 1;
        summary.versions[result.version] = (summary.versions[result.version] ?? 0) + 1;
        if (record.label !== undefined) {
          summary.labelled += 1;
          if (record.label === predicted) summary.correct += 1;
        }
      }
    } catch (error) {
      if (batch.length === 1) {
        const e = toFedlearnError(error);
        reportBad(file, batch[0]!.line, `${e.code}: ${e.message}`);
        return;
      }
      // Find the rows the service refuses by running them one at a time.
      for (const record of batch) await run(file, [record]);
    }
  }

  try {
    for (const [index, file] of files.entries()) {
      let batch: InputRecord[] = [];
      const records = readRecords(file, formatOf(file), {
        ...(spec.featureNames ? { featureNames: spec.featureNames } : {}),
        onBytes: (read) =>
          options.onProgress?.({ bytesRead: bytesBefore + read, totalBytes, rows: summary.rows }),
      });
      for await (const record of records) {
        summary.rows += 1;
        if (record.error) reportBad(file, record.line, record.error);
        else if (record.values!.length !== width) {
          reportBad(file, record.line, `${record.values!.length} values, the model takes ${width}`);
        } else {
          batch.push(record);
          if (batch.length >= batchSize) {
            await run(file, batch);
            batch = [];
          }
        }
      }
      if (batch.length > 0) await run(file, batch);
      bytesBefore += sizes[index]!;
    }
  } finally {
    await writer.close();
  }
  options.onProgress?.({ bytesRead: totalBytes, totalBytes, rows: summary.rows });
  return summary;
}
