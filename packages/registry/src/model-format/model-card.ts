import type { EvaluationSet, RoundMetrics } from '../types.js';
import { type MLmodel, PRIVACY_ACCOUNTANT } from './mlmodel.js';

function cell(value: unknown): string {
  return String(value).replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

/** How the card names each evaluation set. */
const EVALUATION_SET_TEXT: Record<EvaluationSet, string> = {
  'server-test-set': 'on the coordinator’s server-side test set',
  'clients-held-out': 'on the clients’ held-out data: federated evaluation, as the clients reported it',
};

/** What a reader should keep in mind about metrics from each set. */
const EVALUATION_SET_LIMIT: Record<EvaluationSet, string> = {
  'server-test-set':
    'Metrics on the server-side test set measure data the coordinator holds, which may not resemble any client’s data.',
  'clients-held-out':
    'Metrics on the clients’ held-out data are computed and reported by the clients; the coordinator does not check them.',
};

function privacyLine(p: MLmodel['fedlearn']['differentialPrivacy']): string {
  if (p === 'none') return 'none (no privacy guarantee: the training was not differentially private)';
  const who =
    p.mode === 'central'
      ? 'central (the coordinator clipped each update and added the noise)'
      : 'distributed (each client clipped its update and added its noise share before secure aggregation)';
  return `client-level DP-FedAvg, ${who}: (ε = ${p.epsilon.toFixed(3)}, δ = ${p.delta}) after ${p.rounds} rounds, noise multiplier σ = ${p.noiseMultiplier}, clipping norm C = ${p.clipNorm}, sampling rate q = ${p.samplingRate}; accountant: ${PRIVACY_ACCOUNTANT}`;
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
    `- differential privacy: ${privacyLine(f.differentialPrivacy)}`,
    `- clients: ${f.dataPartitions.clients}, examples: ${f.dataPartitions.totalExamples} (partitions recorded by hash and size only)`,
    `- code version: ${f.codeVersion}`,
    '',
    '## Evaluation of this version',
    '',
    ...Object.entries(f.metrics)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => {
        const set = f.metricSources[k];
        return `- ${k}: ${v} (${set ? EVALUATION_SET_TEXT[set] : 'source not recorded'})`;
      }),
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
  const roundSources = ['accuracy', 'loss']
    .filter((m) => metricNames.includes(m) && f.metricSources[m])
    .map((m) => `\`${m}\` ${EVALUATION_SET_TEXT[f.metricSources[m]!]}`);
  if (roundSources.length > 0) lines.push('', `Per round, as for this version: ${roundSources.join('; ')}.`);
  lines.push('', '## Limits', '');
  const sets = new Set(Object.values(f.metricSources));
  const unsourced = Object.keys(f.metrics).some((k) => !f.metricSources[k]);
  const allLimits = [
    ...limits,
    ...(['server-test-set', 'clients-held-out'] as const)
      .filter((s) => sets.has(s))
      .map((s) => EVALUATION_SET_LIMIT[s]),
    ...(unsourced
      ? [
          'Metrics without a stated source were given without one; fedlearn cannot say what data they were measured on.',
        ]
      : []),
  ];
  lines.push(...allLimits.map((l) => `- ${l}`), '');
  return lines.join('\n');
}
