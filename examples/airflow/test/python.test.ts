import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

// The Airflow example's tests are Python (stdlib unittest, no Airflow): run here so `npm test` and
// CI run them. test_dag: the DAG parsed with a STAND-IN airflow package; test_fedlearn_client: the
// DAG's module against a live coordinator (live_coordinator.mjs) and the DAG run end to end.
const HERE = import.meta.dirname;

function unittest(module: string): { status: number | null; output: string } {
  const run = spawnSync('python3', ['-m', 'unittest', '-v', module], {
    cwd: HERE,
    encoding: 'utf8',
    env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    timeout: 110_000,
  });
  return { status: run.status, output: `${run.stdout}\n${run.stderr}` };
}

describe('examples/airflow (python3 -m unittest)', () => {
  it('the DAG file parses with the stand-in airflow package, on Airflow 3 and 2 imports', () => {
    const { status, output } = unittest('test_dag');
    expect(output, output).toMatch(/Ran 2 tests/);
    expect(status, output).toBe(0);
  });

  it('fedlearn_client.py against a live coordinator, and the DAG run end to end', () => {
    const { status, output } = unittest('test_fedlearn_client');
    expect(output, output).toMatch(/Ran 11 tests/);
    expect(output).not.toMatch(/skipped/);
    expect(status, output).toBe(0);
  });
});
