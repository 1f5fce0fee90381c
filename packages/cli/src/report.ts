import type { RoundSummary } from '@fedlearn/server';
import Table from 'cli-table3';

const MB = 1024 * 1024;

function fixed(value: number | undefined, digits: number): string {
  return typeof value === 'number' ? value.toFixed(digits) : '—';
}

/** One row per round: round, finished/sampled, train loss, test accuracy, seconds, MB up, MB down. */
export function roundTable(rounds: readonly RoundSummary[]): string {
  const table = new Table({
    head: ['round', 'clients', 'train loss', 'accuracy', 'test loss', 'seconds', 'MB up', 'MB down'],
    colAligns: ['right', 'right', 'right', 'right', 'right', 'right', 'right', 'right'],
    style: { head: [], border: [] },
    chars: { mid: '', 'left-mid': '', 'mid-mid': '', 'right-mid': '' },
  });
  for (const r of rounds) {
    table.push([
      String(r.round),
      `${r.completed}/${r.sampled}${r.status === 'failed' ? ' ✗' : ''}`,
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
