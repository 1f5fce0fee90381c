import { once } from 'node:events';
import { createWriteStream, type WriteStream } from 'node:fs';
import type { RecordFormat } from './input-records.js';

/** One output row; every row names the model and the version that produced it. */
export interface PredictionRow {
  file: string;
  line: number;
  id?: string;
  model: string;
  version: string;
  class: number;
  probabilities: Float32Array;
}

function csvCell(value: string): string {
  return /[",\n\r]/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Writes prediction rows as JSONL or CSV, waiting for the file to drain so memory stays flat. */
export class PredictionWriter {
  private readonly out: WriteStream;
  private headerWritten = false;

  constructor(
    path: string,
    private readonly format: RecordFormat,
  ) {
    this.out = createWriteStream(path);
  }

  async write(row: PredictionRow): Promise<void> {
    let text: string;
    if (this.format === 'jsonl') {
      text = `${JSON.stringify({
        file: row.file,
        line: row.line,
        ...(row.id === undefined ? {} : { id: row.id }),
        model: row.model,
        version: row.version,
        class: row.class,
        probabilities: Array.from(row.probabilities),
      })}\n`;
    } else {
      const header = this.headerWritten
        ? ''
        : `file,line,id,model,version,class,${Array.from(row.probabilities, (_, i) => `p${i}`).join(',')}\n`;
      this.headerWritten = true;
      const cells = [row.file, String(row.line), row.id ?? '', row.model, row.version, String(row.class)];
      text = `${header}${cells.map(csvCell).join(',')},${Array.from(row.probabilities).join(',')}\n`;
    }
    if (!this.out.write(text)) await once(this.out, 'drain');
  }

  async close(): Promise<void> {
    this.out.end();
    await once(this.out, 'finish');
  }
}
