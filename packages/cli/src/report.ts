import type { RoundSummary } from '@fedlearn/server';
import Table from 'cli-table3';

const MB = 1024 * 1024;

function fixed(value: number | undefined, digits: number): string {
  return typeof value === 'number' ? value.toFixed(digits) : '—';
}

/**
 * One row per round: round, finished/sampled, dropped (disconnected or silent at the deadline),
 * train loss, test accuracy, test loss, seconds, MB up, MB down.
 */
export function roundTable(rounds: readonly RoundSummary[]): string {
  const table = new Table({
    head: [
      'round',
      'clients',
      'dropped',
      'train loss',
      'accuracy',
      'test loss',
      'seconds',
      'MB up',
      'MB down',
    ],
    colAligns: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rounds) {
    table.push([
      String(r.round),
      `${r.completed}/${r.sampled}${r.status === 'failed' ? ' ✗' : ''}`,
      String(r.dropped + r.timedOut),
      fixed(r.trainLoss, 4),
      fixed(r.accuracy, 4),
      fixed(r.loss, 4),
      r.seconds.toFixed(1),
      (r.bytesUp / MB).toFixed(2),
      (r.bytesDown / MB).toFixed(2),
    ]);
  }
  return table.toString();
}

/** A live status line on a terminal; plain lines otherwise (CI logs, pipes). */
export class Progress {
  private lastLength = 0;

  constructor(
    private readonly write: (text: string) => void,
    private readonly interactive: boolean,
  ) {}

  update(text: string): void {
    if (!this.interactive) return;
    const padded = text.padEnd(this.lastLength);
    this.lastLength = text.length;
    this.write(`\r${padded}`);
  }

  line(text: string): void {
    if (this.interactive && this.lastLength > 0) {
      this.write(`\r${' '.repeat(this.lastLength)}\r`);
      this.lastLength = 0;
    }
    this.write(`${text}\n`);
  }
}

export function bar(done: number, total: number, width = 20): string {
  const filled = total === 0 ? 0 : Math.round((done / total) * width);
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

/**
 * A small text chart of a per-round series (e.g. test accuracy), so the learning curve is visible
 * in a terminal or a CI log without opening a notebook.
 */
export function lineChart(values: readonly (number | undefined)[], label: string, height = 8): string {
  const points = values
    .map((v, i) => ({ round: i + 1, v }))
    .filter((p): p is { round: number; v: number } => typeof p.v === 'number');
  if (points.length === 0) return '';
  const lo = Math.min(...points.map((p) => p.v));
  const hi = Math.max(...points.map((p) => p.v));
  const span = hi - lo || 1;
  const rows: string[] = [];
  for (let level = height - 1; level >= 0; level--) {
    const axis = lo + (span * level) / (height - 1);
    const cells = values.map((v) => {
      if (typeof v !== 'number') return ' ';
      const y = Math.round(((v - lo) / span) * (height - 1));
      return y === level ? '●' : y > level ? '│' : ' ';
    });
    rows.push(`${axis.toFixed(4).padStart(8)} ┤ ${cells.join(' ')}`);
  }
  const ticks = values.map((_, i) => ((i + 1) % 5 === 0 ? String((i + 1) % 10) : ' ')).join(' ');
  rows.push(`${' '.repeat(8)} └─${'──'.repeat(values.length)}`);
  rows.push(`${' '.repeat(11)}${ticks}   (round; every 5th marked)`);
  return `${label}\n${rows.join('\n')}\n`;
}

export function formatMetric(value: number | null | undefined): string {
  return typeof value === 'number' ? value.toFixed(4) : '—';
}

/** A round as `fedlearn demo --json` writes it. */
export function jsonRound(r: RoundSummary) {
  return {
    round: r.round,
    status: r.status,
    sampled: r.sampled,
    completed: r.completed,
    dropped: r.dropped + r.timedOut,
    failed: r.failed,
    trainLoss: r.trainLoss ?? null,
    accuracy: r.accuracy ?? null,
    loss: r.loss ?? null,
    federated: r.federated ?? null,
    ...(r.secagg ? { secagg: r.secagg } : {}),
    seconds: r.seconds,
    bytesUp: r.bytesUp,
    bytesDown: r.bytesDown,
    ...(r.error ? { error: r.error } : {}),
  };
}
