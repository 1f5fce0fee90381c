import { parseArgs } from 'node:util';
import { FedlearnError } from '@fedlearn/core';
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import {
  type BatchPredictSummary,
  batchPredict,
  parseModelTarget,
  type ServingBackend,
  startServingBackend,
  startServingCore,
} from '@fedlearn/serving';
import pino from 'pino';
import type { CommandIo } from './io.js';

export const PREDICT_HELP = `Usage: fedlearn predict --model models:/NAME@ALIAS --input FILE|DIR --output FILE [options]

Predicts every row of JSONL or CSV files with a registered model, streaming (memory stays flat in the
file size). Every output row names the model version that produced it; bad rows are reported by file
and line and skipped.

Input rows:
  JSONL  [x1, x2, ...]  or  {"id": .., "features": [..], "label": ..}  or an object keyed by the
         signature's feature names
  CSV    a header row; columns "id" and "label" are carried, not features (by name when the
         signature names its features, else every other column in order)
Output: JSONL or CSV by the --output extension (file, line, id, model, version, class, probabilities).

Options:
  --model URI        models:/name@alias or models:/name/version (default alias: champion)
  --input PATH       a .jsonl/.csv file or a directory of them; repeatable
  --output FILE      where predictions go (.jsonl or .csv)
  --batch-size N     rows per model execution (default 256, at most 4096)
  --backend NAME     auto | tensorflow | wasm | cpu (default auto)
  --home DIR         fedlearn home (default: $FEDLEARN_HOME or ./.fedlearn); MLFLOW_TRACKING_URI selects MLflow
  --json             print the summary as JSON
`;

/** Bad rows printed one by one before the rest are only counted. */
const BAD_ROWS_SHOWN = 20;

function progressBar(fraction: number, rows: number): string {
  const width = 30;
  const done = Math.round(fraction * width);
  return `\r[${'#'.repeat(done)}${'-'.repeat(width - done)}] ${(fraction * 100).toFixed(0).padStart(3)}%  ${rows} rows`;
}

function describe(summary: BatchPredictSummary, model: string, seconds: number): string {
  const versions = Object.entries(summary.versions)
    .map(([v, n]) => `v${v} (${n} rows)`)
    .join(', ');
  const lines = [
    `predicted ${summary.predicted} of ${summary.rows} rows from ${summary.files} file(s) with ${model} ${versions || '-'}`,
    `${summary.bad} bad row(s); ${seconds.toFixed(1)} s, ${Math.round(summary.predicted / Math.max(seconds, 1e-3))} rows/s`,
  ];
  if (summary.labelled > 0) {
    lines.push(
      `accuracy on ${summary.labelled} labelled rows: ${(summary.correct / summary.labelled).toFixed(4)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

/** `fedlearn predict`: offline batch prediction with the served model. Exit 1 when no row could be predicted. */
export async function runPredictCommand(
  argv: string[],
  io: CommandIo,
  showProgress = false,
): Promise<number> {
  const { values } = parseArgs({
    args: argv,
    options: {
      model: { type: 'string' },
      input: { type: 'string', multiple: true },
      output: { type: 'string' },
      'batch-size': { type: 'string' },
      backend: { type: 'string' },
      home: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(PREDICT_HELP);
    return 0;
  }
  if (!values.model || !values.input?.length || !values.output) {
    io.stderr(`fedlearn predict: --model, --input and --output are required\n\n${PREDICT_HELP}`);
    return 2;
  }
  const batchSize = values['batch-size'] === undefined ? 256 : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 4096) {
    throw new FedlearnError('INVALID_ARGUMENT', '--batch-size must be an integer from 1 to 4096');
  }
  const backend = (values.backend ?? 'auto') as ServingBackend;
  if (!['auto', 'tensorflow', 'wasm', 'cpu'].includes(backend)) {
    throw new FedlearnError('INVALID_ARGUMENT', '--backend must be auto, tensorflow, wasm or cpu');
  }
  const target = parseModelTarget(values.model);
  const config = resolveLifecycleConfig(io.env, {
    cwd: io.cwd,
    ...(values.home ? { home: values.home } : {}),
  });
  const lifecycle = createModelLifecycle(config);
  await startServingBackend(backend);
  const logger = pino({ level: 'warn' }, pino.destination(2));
  const core = await startServingCore({ source: lifecycle, models: [target], logger, pollIntervalMs: 0 });
  const started = performance.now();
  let shownBad = 0;
  let lastPercent = -1;
  try {
    const summary = await batchPredict(core.service, {
      model: target.name,
      inputs: values.input,
      output: values.output,
      batchSize,
      onBadRow: (bad) => {
        shownBad += 1;
        if (shownBad <= BAD_ROWS_SHOWN)
          io.stderr(`${showProgress ? '\n' : ''}bad row ${bad.file}:${bad.line}: ${bad.reason}\n`);
        else if (shownBad === BAD_ROWS_SHOWN + 1) io.stderr('(more bad rows: counted in the summary)\n');
      },
      onProgress: ({ bytesRead, totalBytes, rows }) => {
        if (!showProgress) return;
        const percent = Math.floor((100 * bytesRead) / Math.max(totalBytes, 1));
        if (percent === lastPercent && bytesRead < totalBytes) return;
        lastPercent = percent;
        io.stderr(progressBar(bytesRead / Math.max(totalBytes, 1), rows));
      },
    });
    if (showProgress) io.stderr('\n');
    const seconds = (performance.now() - started) / 1000;
    io.stdout(
      values.json ? `${JSON.stringify({ ...summary, seconds })}\n` : describe(summary, target.name, seconds),
    );
    return summary.predicted === 0 && summary.rows > 0 ? 1 : 0;
  } finally {
    core.close();
    await lifecycle.close();
  }
}
