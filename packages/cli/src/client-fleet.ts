import { type ChildProcess, spawn } from 'node:child_process';
import { openSync } from 'node:fs';

export interface ClientFleetOptions {
  binPath: string;
  count: number;
  /** Partition index of the first client (default 0); client i gets partition firstIndex + i. */
  firstIndex?: number;
  serverUrl: string;
  token: string;
  /** Extra `fedlearn client` arguments shared by every client. */
  args: string[];
  logFile: string;
  onExit?: (index: number, code: number | null) => void;
}

export interface ClientFleet {
  readonly processes: ChildProcess[];
  stop(): Promise<void>;
}

/** Starts `count` `fedlearn client` processes, one per partition; their output goes to the log file. */
export function spawnClients(options: ClientFleetOptions): ClientFleet {
  const log = openSync(options.logFile, 'a');
  const first = options.firstIndex ?? 0;
  const processes = Array.from({ length: options.count }, (_, i) => {
    const index = first + i;
    const child = spawn(
      process.execPath,
      [options.binPath, 'client', '--server', options.serverUrl, '--index', String(index), ...options.args],
      {
        // The token travels in the environment, never in argv where `ps` shows it.
        env: { ...process.env, FEDLEARN_CLIENT_TOKEN: options.token },
        stdio: ['ignore', log, log],
      },
    );
    child.on('exit', (code) => options.onExit?.(index, code));
    return child;
  });
  return {
    processes,
    stop: () =>
      Promise.all(
        processes.map(
          (child) =>
            new Promise<void>((resolve) => {
              if (child.exitCode !== null || child.signalCode !== null) return resolve();
              child.once('exit', () => resolve());
              child.kill('SIGTERM');
            }),
        ),
      ).then(() => undefined),
  };
}
