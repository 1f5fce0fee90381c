import type { RoundMetrics } from '../types.js';
import type { MLmodel } from './mlmodel.js';

function cell(value: unknown): string {
  return String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function shape(dims: number[]): string {
  return `[${dims.map((d) => (d === -1 ? 'batch' : String(d))).join(', ')}]`;
}

/**
 * Writes the model card (`README.md`): what the model is, how it was trained, metrics per round
 * and its limits. Deterministic for the same input, so it can be checked in tests.
 */
export function renderModelCard(
  model: MLmodel,
  history: readonly RoundMetrics[],
  limits: readonly string[],
): string {
  const f = model.fedlearn;
  const metricNames = [...new Set(history.flatMap((r) => Object.keys(r.metrics)))].sort();
  const lines: string[] = [
    `# ${f.modelName} — round ${f.round}`,
    '',
    `A TensorFlow.js layers model (tfjs ${model.tfjs.tfjsVersion}) trained with federated learning by fedlearn job \`${f.jobId}\`.`,
    '',
    '## What it is',
    '',
    '| tensor | name | dtype | shape |',
    '|---|---|---|---|',
    ...model.signature.inputs.map((t) => `| input | ${cell(t.name)} | ${t.dtype} | ${shape(t.shape)} |`),
    ...model.signature.outputs.map((t) => `| output | ${cell(t.name)} | ${t.dtype} | ${shape(t.shape)} |`),
    '',
    `Preprocessing: ${model.tfjs.preprocessing}`,
    '',
    '## How it was trained',
    '',
    `- strategy: ${f.strategy}`,
    `- rounds completed: ${f.round}`,
    `- secure aggregation: ${f.secureAggregation ? 'on (the coordinator saw only masked updates)' : 'off'}`,
    `- differential privacy: ${f.privacy ? `ε = ${f.privacy.epsilon}, δ = ${f.privacy.delta}` : 'off'}`,
    `- clients: ${f.dataPartitions.clients}, examples: ${f.dataPartitions.totalExamples} (partitions recorded by hash and size only)`,
    `- code version: ${f.codeVersion}`,
    '',
    '## Evaluation of this version',
    '',
    ...Object.entries(f.metrics)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Metrics per round',
    '',
  ];
  if (history.length === 0 || metricNames.length === 0) {
    lines.push('No round metrics were logged.');
  } else {
    lines.push(`| round | ${metricNames.join(' | ')} |`, `|---|${metricNames.map(() => '---').join('|')}|`);
    for (const r of history)
      lines.push(`| ${r.round} | ${metricNames.map((m) => cell(r.metrics[m] ?? '')).join(' | ')} |`);
  }
  lines.push('', '## Limits', '');
  const allLimits = [
    ...limits,
    'Evaluated on clients’ held-out data as reported by the clients; not on an independent test set unless stated.',
  ];
  lines.push(...allLimits.map((l) => `- ${l}`), '');
  return lines.join('\n');
}
