import { createReadStream } from 'node:fs';
import { extname } from 'node:path';
import { createInterface } from 'node:readline';
import { FedlearnError } from '@fedlearn/core';

export type RecordFormat = 'jsonl' | 'csv';

/** One input row: its features, or why it cannot be used. `line` is 1-based in its file. */
export interface InputRecord {
  line: number;
  id?: string;
  /** The true class when the input has a `label` column/field (the summary then reports accuracy). */
  label?: number;
  values?: Float32Array;
  error?: string;
}

export interface ReadOptions {
  /** Feature names from the model signature: CSV columns and JSON keys are looked up by them. */
  featureNames?: string[];
  /** Longest line accepted; longer ones are bad rows. Default 16 MiB. */
  maxLineChars?: number;
  /** Called with the bytes read so far (for a progress bar). */
  onBytes?: (bytesRead: number) => void;
}

/** The format a file name says: `.jsonl`/`.ndjson`/`.json` or `.csv`. */
export function formatOf(path: string): RecordFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.csv') return 'csv';
  if (ext === '.jsonl' || ext === '.ndjson' || ext === '.json') return 'jsonl';
  throw new FedlearnError('INVALID_ARGUMENT', `${path}: unknown input format (use .jsonl or .csv)`);
}

function finiteValues(list: unknown[]): Float32Array | string {
  const out = new Float32Array(list.length);
  for (let i = 0; i < list.length; i += 1) {
    const v = list[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) return `value ${i + 1} is not a finite number`;
    out[i] = v;
  }
  return out;
}

function idOf(value: unknown): string | undefined {
  return typeof value === 'string' || typeof value === 'number' ? String(value) : undefined;
}

function labelOf(value: unknown): number | undefined {
  const n = typeof value === 'string' && value.trim() !== '' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) ? n : undefined;
}

/** A JSON line: `[..]`, `{"features"|"instance"|"input": [..], "id"?, "label"?}`, or an object keyed by feature names. */
function jsonRecord(line: number, text: string, featureNames?: string[]): InputRecord {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { line, error: 'not valid JSON' };
  }
  if (Array.isArray(json)) {
    const values = finiteValues(json.flat(4));
    return typeof values === 'string' ? { line, error: values } : { line, values };
  }
  if (typeof json !== 'object' || json === null) return { line, error: 'expected an array or an object' };
  const o = json as Record<string, unknown>;
  const record: InputRecord = { line };
  const id = idOf(o['id']);
  if (id !== undefined) record.id = id;
  const label = labelOf(o['label']);
  if (label !== undefined) record.label = label;
  const list = o['features'] ?? o['instance'] ?? o['input'];
  let values: Float32Array | string;
  if (Array.isArray(list)) values = finiteValues(list.flat(4));
  else if (featureNames) {
    const missing = featureNames.find((f) => !(f in o));
    values =
      missing === undefined ? finiteValues(featureNames.map((f) => o[f])) : `feature "${missing}" is missing`;
  } else values = 'no "features" array';
  if (typeof values === 'string') record.error = values;
  else record.values = values;
  return record;
}

/** Splits one CSV line (RFC 4180 quoting within the line; a quoted newline is not supported). */
export function splitCsvLine(text: string): string[] | undefined {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i += 1) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i += 1;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  if (quoted) return undefined;
  cells.push(cell);
  return cells;
}

interface CsvLayout {
  features: number[];
  id?: number;
  label?: number;
  width: number;
}

/** Feature columns: the signature's feature names when it has them, else every column but `id` and `label`. */
function csvLayout(header: string[], featureNames?: string[]): CsvLayout {
  const lower = header.map((h) => h.trim().toLowerCase());
  const id = lower.indexOf('id');
  const label = lower.indexOf('label');
  let features: number[];
  if (featureNames) {
    features = featureNames.map((name) => {
      const index = header.findIndex((h) => h.trim() === name);
      if (index < 0) throw new FedlearnError('INVALID_ARGUMENT', `the CSV header has no column "${name}"`);
      return index;
    });
  } else features = header.map((_, i) => i).filter((i) => i !== id && i !== label);
  return { features, width: header.length, ...(id >= 0 ? { id } : {}), ...(label >= 0 ? { label } : {}) };
}

function csvRecord(line: number, text: string, layout: CsvLayout): InputRecord {
  const cells = splitCsvLine(text);
  if (!cells) return { line, error: 'unterminated quote' };
  if (cells.length !== layout.width)
    return { line, error: `${cells.length} columns, the header has ${layout.width}` };
  const record: InputRecord = { line };
  if (layout.id !== undefined) record.id = cells[layout.id]!;
  if (layout.label !== undefined) {
    const label = labelOf(cells[layout.label]);
    if (label !== undefined) record.label = label;
  }
  const values = new Float32Array(layout.features.length);
  for (let i = 0; i < layout.features.length; i += 1) {
    const cell = cells[layout.features[i]!]!.trim();
    const v = cell === '' ? Number.NaN : Number(cell);
    if (!Number.isFinite(v))
      return { ...record, error: `column ${layout.features[i]! + 1} is not a finite number` };
    values[i] = v;
  }
  record.values = values;
  return record;
}

/**
 * Streams the records of one JSONL or CSV file, one line at a time: memory does not grow with the file.
 *
 * @example
 * for await (const record of readRecords('digits.csv', 'csv')) if (record.error) report(record);
 */
export async function* readRecords(
  path: string,
  format: RecordFormat,
  options: ReadOptions = {},
): AsyncGenerator<InputRecord> {
  const maxLineChars = options.maxLineChars ?? 16 * 1024 * 1024;
  const stream = createReadStream(path);
  if (options.onBytes) stream.on('data', () => options.onBytes!(stream.bytesRead));
  const lines = createInterface({ input: stream, crlfDelay: Number.POSITIVE_INFINITY });
  let line = 0;
  let layout: CsvLayout | undefined;
  try {
    for await (const text of lines) {
      line += 1;
      if (text.trim() === '') continue;
      if (text.length > maxLineChars) {
        yield { line, error: `line longer than ${maxLineChars} characters` };
        continue;
      }
      if (format === 'jsonl') {
        yield jsonRecord(line, text, options.featureNames);
      } else if (!layout) {
        const header = splitCsvLine(text);
        if (!header) throw new FedlearnError('INVALID_ARGUMENT', `${path}: the CSV header is malformed`);
        layout = csvLayout(header, options.featureNames);
      } else {
        yield csvRecord(line, text, layout);
      }
    }
  } finally {
    lines.close();
    stream.destroy();
  }
}
