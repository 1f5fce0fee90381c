import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';

export const BIN = resolve(import.meta.dirname, '../dist/bin.js');
export const run = promisify(execFile);

/** Runs `fedlearn demo <args> --json …` in a fresh home with the embedded (local) registry. */
export async function runDemo(args: string[]) {
  const home = mkdtempSync(join(tmpdir(), 'fedlearn-demo-'));
  const jsonFile = join(home, 'run.json');
  const env = { ...process.env, FEDLEARN_HOME: home, MLFLOW_TRACKING_URI: '' };
  const { stdout } = await run(process.execPath, [BIN, 'demo', ...args, '--json', jsonFile], {
    env,
    cwd: home,
  });
  return { stdout, report: JSON.parse(readFileSync(jsonFile, 'utf8')), home, env };
}
