import { type ChildProcess, spawn } from 'node:child_process';
import { resolve } from 'node:path';

/** The repository root and the built `fedlearn` CLI the examples run. */
export const ROOT = resolve(import.meta.dirname, '../..');
export const FEDLEARN_BIN = resolve(ROOT, 'packages/cli/dist/bin.js');
export const TSX_BIN = resolve(ROOT, 'node_modules/tsx/dist/cli.mjs');

/** A child process whose output is kept (for assertions and for the failure message). */
export interface Started {
  child: ChildProcess;
  output: () => string;
  /** Resolves with the first match of `pattern` in its output; rejects if it exits first. */
  waitFor: (pattern: RegExp) => Promise<RegExpMatchArray>;
  exited: Promise<number | null>;
}

const started: ChildProcess[] = [];

export function start(
  command: string,
  args: string[],
  options: {
    env?: Record<string, string | undefined>;
    cwd?: string;
    name?: string;
    /** Start from an empty environment (PATH only) instead of this process's. */
    cleanEnv?: boolean;
  } = {},
): Started {
  const child = spawn(command, args, {
    cwd: options.cwd ?? ROOT,
    env: { ...(options.cleanEnv ? { PATH: process.env.PATH } : process.env), ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let text = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    text += chunk.toString();
    for (const listener of listeners) listener();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
  return {
    child,
    output: () => text,
    exited,
    waitFor: (pattern) =>
      new Promise((found, failed) => {
        const check = () => {
          const match = pattern.exec(text);
          if (!match) return;
          listeners.delete(check);
          found(match);
        };
        listeners.add(check);
        void exited.then((code) =>
          failed(
            new Error(`${options.name ?? command} exited (${code}) before ${pattern}:\n${text.slice(-4000)}`),
          ),
        );
        check();
      }),
  };
}

/** `node packages/cli/dist/bin.js <args>`. */
export function fedlearn(args: string[], options: Parameters<typeof start>[2] = {}): Started {
  return start(process.execPath, [FEDLEARN_BIN, ...args], { name: `fedlearn ${args[0]}`, ...options });
}

/** Stops every process these helpers started (SIGTERM, then waits for each to exit). */
export async function stopAll(): Promise<void> {
  await Promise.all(
    started.splice(0).map(
      (child) =>
        new Promise<void>((done) => {
          if (child.exitCode !== null || child.signalCode !== null) return done();
          child.once('exit', () => done());
          child.kill('SIGTERM');
        }),
    ),
  );
}

/** Rejects, with its output, as soon as one of `processes` exits: race it against a wait. */
export function anyExit(processes: Started[]): Promise<never> {
  return new Promise((_, failed) => {
    for (const p of processes)
      void p.exited.then((code) =>
        failed(new Error(`a process exited (${code}):\n${p.output().slice(-4000)}`)),
      );
  });
}
