import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { baselineKey, type ExperimentResults, type ExperimentRun } from './results.js';
import { linePlot, type Series } from './svg-plot.js';

const fmt = (value: number | null | undefined, digits = 4) =>
  typeof value === 'number' ? value.toFixed(digits) : '—';

function gap(run: ExperimentRun, results: ExperimentResults): number | null {
  const base = results.baselines[baselineKey(run.config.partition, run.config.seed)];
  return base && typeof run.accuracy === 'number' ? (run.accuracy - base.accuracy) * 100 : null;
}

function slug(text: string): string {
  return text
    .replace(/[^A-Za-z0-9]+/g, '-')
    .replace(/^-|-$/g, '')
    .toLowerCase();
}

function shortLabel(run: ExperimentRun): string {
  const c = run.config;
  const parts = [c.strategyText];
  if (c.secagg) parts.push('secagg');
  if (c.dp.mode !== 'none') parts.push(`${c.dp.mode} DP ε=${fmt(run.epsilon, 2)}`);
  parts.push(`seed ${c.seed}`);
  return parts.join(', ');
}

/** The Markdown summary: one row per run, the best non-private run per partition against the baseline. */
export function summaryMarkdown(results: ExperimentResults): string {
  const s = results.setup;
  const lines = [
    '# Experiment report',
    '',
    `${s.dataset.toUpperCase()}, ${s.model}; ${s.clients} clients, ${s.rounds} rounds, ${s.localEpochs} local epochs, batch ${s.batchSize}, lr ${s.learningRate}, fraction ${s.fraction}, backend ${s.backend}.`,
    `Written by \`fedlearn experiment\` (${results.updatedAt}). Accuracy is on the demo’s MNIST test set (2,000 digits the clients never see) after the last round;`,
    'the centralised baseline trains the same model from the same initial weights on the union of the clients’ data',
    'for as many epochs as each client trained in total (rounds × local epochs). ε is at the run’s δ (RDP accountant).',
    '',
    '| partition | strategy | secagg | DP | seed | accuracy | vs centralised (points) | ε (δ) | rounds | seconds | status |',
    '|---|---|---|---|---|---:|---:|---:|---:|---:|---|',
  ];
  for (const run of results.runs) {
    const c = run.config;
    const d = gap(run, results);
    const dp = c.dp.mode === 'none' ? 'none' : `${c.dp.mode}, σ=${c.dp.noise}, C=${c.dp.clip}`;
    const eps = run.epsilon === null ? '—' : `${run.epsilon.toFixed(2)} (${run.delta})`;
    lines.push(
      `| ${c.partition} | ${c.strategyText} | ${c.secagg ? 'on' : 'off'} | ${dp} | ${c.seed} | ${fmt(run.accuracy)} | ${d === null ? '—' : `${d >= 0 ? '+' : ''}${d.toFixed(2)}`} | ${eps} | ${run.roundsRun} | ${run.seconds.toFixed(0)} | ${run.status}${run.stopped ? ` (${run.stopped})` : ''}${run.error ? `: ${run.error}` : ''} |`,
    );
  }
  lines.push(
    '',
    '## Centralised baselines',
    '',
    '| partition, seed | accuracy | loss | epochs | seconds |',
    '|---|---:|---:|---:|---:|',
  );
  for (const [key, b] of Object.entries(results.baselines)) {
    lines.push(
      `| ${key.replace(/\|/g, '\\|')} | ${fmt(b.accuracy)} | ${fmt(b.loss)} | ${b.epochs} | ${b.seconds.toFixed(0)} |`,
    );
  }
  lines.push('', '## Best non-private run per partition', '');
  for (const partition of new Set(results.runs.map((r) => r.config.partition))) {
    const best = results.runs
      .filter(
        (r) =>
          r.config.partition === partition && r.config.dp.mode === 'none' && typeof r.accuracy === 'number',
      )
      .sort((a, b) => (b.accuracy as number) - (a.accuracy as number))[0];
    if (!best) continue;
    const d = gap(best, results);
    lines.push(
      `- ${partition}: ${best.config.strategyText}${best.config.secagg ? ' with secure aggregation' : ''}, accuracy ${fmt(best.accuracy)}${d === null ? '' : ` (${d >= 0 ? '+' : ''}${d.toFixed(2)} points against centralised)`}`,
    );
  }
  lines.push('', '## Plots', '');
  for (const partition of new Set(results.runs.map((r) => r.config.partition))) {
    lines.push(`![accuracy per round, ${partition}](accuracy-${slug(partition)}.svg)`, '');
  }
  if (results.runs.some((r) => r.epsilon !== null))
    lines.push('![ε against accuracy](epsilon-accuracy.svg)', '');
  if (results.loadAverage) {
    lines.push(
      `Load average when the report was written: ${results.loadAverage.map((l) => l.toFixed(2)).join(', ')} (results are seeded; load only changes the seconds).`,
      '',
    );
  }
  return `${lines.join('\n')}\n`;
}

/** Writes README.md, results.json and the SVG plots into `dir`. */
export function writeReport(dir: string, results: ExperimentResults): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(dir, 'README.md'), summaryMarkdown(results));
  for (const partition of new Set(results.runs.map((r) => r.config.partition))) {
    const runs = results.runs.filter((r) => r.config.partition === partition);
    const series: Series[] = runs.map((r) => ({
      label: shortLabel(r),
      points: r.rounds
        .filter((p) => p.accuracy !== null)
        .map((p) => ({ x: p.round, y: p.accuracy as number })),
    }));
    for (const seed of new Set(runs.map((r) => r.config.seed))) {
      const base = results.baselines[baselineKey(partition, seed)];
      if (base) {
        series.push({
          label: `centralised (seed ${seed}) ${base.accuracy.toFixed(4)}`,
          dashed: true,
          points: [
            { x: 1, y: base.accuracy },
            { x: results.setup.rounds, y: base.accuracy },
          ],
        });
      }
    }
    writeFileSync(
      join(dir, `accuracy-${slug(partition)}.svg`),
      linePlot(series, {
        title: `MNIST test accuracy per round (${partition})`,
        xLabel: 'round',
        yLabel: 'test accuracy',
      }),
    );
  }
  const privateRuns = results.runs.filter((r) => r.epsilon !== null && r.accuracy !== null);
  if (privateRuns.length > 0) {
    const series: Series[] = privateRuns.map((r) => ({
      label: shortLabel(r),
      dotsOnly: true,
      points: r.rounds
        .filter((p) => p.epsilon !== null && p.accuracy !== null)
        .map((p) => ({ x: p.epsilon as number, y: p.accuracy as number })),
    }));
    writeFileSync(
      join(dir, 'epsilon-accuracy.svg'),
      linePlot(series, {
        title: 'ε spent against test accuracy (each round)',
        xLabel: 'ε',
        yLabel: 'test accuracy',
      }),
    );
  }
}
