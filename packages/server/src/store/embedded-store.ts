import { type FileHandle, mkdir, open } from 'node:fs/promises';
import { join } from 'node:path';
import { FedlearnError, isFedlearnError } from '@fedlearn/core';
import type { CoordinatorStore, JobStatusChange, NewEnrollment, NewJob } from './coordinator-store.js';
import { type JsonValue, roundResultSchema, validInput } from './records.js';
import {
  acquireLock,
  fsyncDir,
  readIfExists,
  removeOtherLogs,
  unavailable,
  writeFileAtomic,
} from './store-files.js';
import {
  jobStatusChangeSchema,
  newEnrollmentSchema,
  newEventSchema,
  newJobSchema,
  roundErrorSchema,
  roundStartSchema,
  runIdSchema,
} from './store-input.js';
import { type StoreOp, StoreState } from './store-state.js';
import { decodeFrames, encodeFrame, MAX_RECORD_BYTES, MAX_SNAPSHOT_BYTES } from './wal-frame.js';

export interface EmbeddedStoreOptions {
  /** Folder of the store: `snapshot`, `wal-<generation>.log`, `lock`. */
  dir: string;
  /** Log records after which the state is compacted into a new snapshot. */
  compactEvery?: number;
  now?: () => Date;
}

const SNAPSHOT = 'snapshot';

/**
 * The embedded default: the state lives in memory, every change is appended to a write-ahead log
 * and fsynced before its promise resolves, and every `compactEvery` records the state is written
 * as a snapshot (write-then-rename, fsync) that starts a new log generation.
 */
export class EmbeddedCoordinatorStore implements CoordinatorStore {
  private queue: Promise<unknown> = Promise.resolve();
  private broken: FedlearnError | undefined;
  private closed = false;
  private closing: Promise<void> | undefined;

  private constructor(
    private readonly dir: string,
    private state: StoreState,
    private generation: number,
    private log: FileHandle,
    private logRecords: number,
    private readonly compactEvery: number,
    private readonly now: () => Date,
    private readonly unlock: () => Promise<void>,
  ) {}

  static async open(options: EmbeddedStoreOptions): Promise<EmbeddedCoordinatorStore> {
    const { dir } = options;
    await mkdir(dir, { recursive: true }).catch((e: unknown) => Promise.reject(unavailable(e)));
    const unlock = await acquireLock(dir);
    try {
      const snapshotBytes = await readIfExists(join(dir, SNAPSHOT));
      let state = new StoreState();
      let generation = 0;
      if (snapshotBytes) {
        // A snapshot is renamed into place whole, so any bad frame in it is damage, not a torn write.
        const { payloads, validBytes } = decodeFrames(snapshotBytes, 'snapshot', MAX_SNAPSHOT_BYTES);
        if (payloads.length !== 1 || validBytes !== snapshotBytes.length) {
          throw new FedlearnError('STORE_CORRUPT', 'stored snapshot is damaged');
        }
        const parsed = parseJson(payloads[0] as Buffer, 'snapshot') as {
          generation?: unknown;
          state?: unknown;
        };
        if (typeof parsed.generation !== 'number' || !Number.isInteger(parsed.generation)) {
          throw new FedlearnError('STORE_CORRUPT', 'stored snapshot has no generation');
        }
        generation = parsed.generation;
        state = StoreState.fromSnapshot(parsed.state);
      }
      const logName = `wal-${generation}.log`;
      await removeOtherLogs(dir, logName);
      const logBytes = (await readIfExists(join(dir, logName))) ?? Buffer.alloc(0);
      const { payloads, validBytes } = decodeFrames(logBytes, logName);
      for (const payload of payloads) replay(state, parseJson(payload, logName) as StoreOp);
      // Every replayed record is validated once more as it would be read back.
      state = StoreState.fromSnapshot(JSON.parse(JSON.stringify(state.toSnapshot())));
      const log = await open(join(dir, logName), 'a+');
      if (validBytes < logBytes.length) {
        await log.truncate(validBytes);
        await log.sync();
      }
      await fsyncDir(dir);
      return new EmbeddedCoordinatorStore(
        dir,
        state,
        generation,
        log,
        payloads.length,
        options.compactEvery ?? 1000,
        options.now ?? (() => new Date()),
        unlock,
      );
    } catch (error) {
      await unlock();
      throw isFedlearnError(error) ? error : unavailable(error);
    }
  }

  async createJob(job: NewJob) {
    const input = validInput(newJobSchema, job, 'job');
    return this.write((at) => ({ t: 'createJob', at, job: input }));
  }
  getJob(id: string) {
    return this.read((s) => s.jobs.get(id));
  }
  listJobs() {
    return this.read((s) => [...s.jobs.values()].sort((a, b) => a.seq - b.seq));
  }
  listQueue() {
    return this.read((s) =>
      [...s.jobs.values()]
        .filter((j) => j.status === 'queued')
        .sort((a, b) => b.priority - a.priority || a.seq - b.seq),
    );
  }
  async setJobStatus(id: string, change: JobStatusChange) {
    const input = validInput(jobStatusChangeSchema, change, 'job status');
    return this.write((at) => ({ t: 'setJobStatus', at, id, change: input }));
  }
  async setJobRunId(id: string, runId: string) {
    validInput(runIdSchema, runId, 'run id');
    return this.write((at) => ({ t: 'setJobRunId', at, id, runId }));
  }
  async appendEvent(jobId: string, event: { type: string; data: JsonValue }) {
    const input = validInput(newEventSchema, event, 'event');
    return this.write((at) => ({ t: 'appendEvent', at, jobId, ...input }));
  }
  listEvents(jobId: string, afterId = 0) {
    return this.read((s) => {
      s.job(jobId);
      return (s.events.get(jobId) ?? []).filter((e) => e.id > afterId);
    });
  }
  async startRound(jobId: string, round: number, participants: string[]) {
    validInput(roundStartSchema, { round, participants }, 'round');
    return this.write((at) => ({ t: 'startRound', at, jobId, round, participants }));
  }
  async failRound(jobId: string, round: number, error: { code: string; message: string }) {
    const input = validInput(roundErrorSchema, error, 'round error');
    return this.write((at) => ({ t: 'failRound', at, jobId, round, error: input }));
  }
  async completeRound(
    jobId: string,
    round: number,
    result: Parameters<CoordinatorStore['completeRound']>[2],
  ) {
    const input = validInput(roundResultSchema, result, 'round result');
    return this.write((at) => ({ t: 'completeRound', at, jobId, round, result: input }));
  }
  listRounds(jobId: string) {
    return this.read((s) => [...s.roundsOf(jobId).values()].sort((a, b) => a.round - b.round));
  }
  async putStrategyState(jobId: string, round: number, state: JsonValue) {
    validInput(roundResultSchema.shape.strategyState, state, 'strategy state');
    await this.write((at) => ({ t: 'putStrategyState', at, jobId, round, state }));
  }
  getStrategyState(jobId: string) {
    return this.read((s) => s.strategy.get(jobId));
  }
  async enrollClient(enrollment: NewEnrollment) {
    const input = validInput(newEnrollmentSchema, enrollment, 'enrollment');
    return this.write((at) => ({ t: 'enrollClient', at, enrollment: input }));
  }
  getClient(id: string) {
    return this.read((s) => s.clients.get(id));
  }
  listClients() {
    return this.read((s) =>
      [...s.clients.values()].sort(
        (a, b) => a.createdAt.localeCompare(b.createdAt) || a.id.localeCompare(b.id),
      ),
    );
  }
  async revokeClient(id: string) {
    return this.write((at) => ({ t: 'revokeClient', at, id }));
  }

  close(): Promise<void> {
    this.closing ??= this.serial(async () => {
      this.closed = true;
      await this.log.close();
      await this.unlock();
    });
    return this.closing;
  }

  // biome-ignore lint/suspicious/noExplicitAny: each op's value has the type its public method names
  private write(makeOp: (at: string) => StoreOp): Promise<any> {
    return this.serial(async () => {
      const op = makeOp(this.now().toISOString());
      const record = Buffer.from(JSON.stringify(op));
      // Checked before the change is applied: a record too big to read back is never written.
      if (record.length > MAX_RECORD_BYTES) {
        throw new FedlearnError('PAYLOAD_TOO_LARGE', `a stored change is at most ${MAX_RECORD_BYTES} bytes`);
      }
      const { value, changed } = this.state.apply(op);
      if (!changed) return structuredClone(value);
      try {
        await this.log.appendFile(encodeFrame(record));
        await this.log.sync();
        this.logRecords += 1;
        if (this.logRecords >= this.compactEvery) await this.compact();
      } catch (error) {
        // Memory is ahead of the disk now: refuse everything rather than answer from it.
        this.broken = unavailable(error);
        throw this.broken;
      }
      return structuredClone(value);
    });
  }

  private read<T>(query: (state: StoreState) => T): Promise<T> {
    return this.serial(async () => structuredClone(query(this.state)));
  }

  private serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      if (this.closed) throw new FedlearnError('STORE_UNAVAILABLE', 'the store is closed');
      if (this.broken) throw this.broken;
      return task();
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async compact(): Promise<void> {
    const generation = this.generation + 1;
    const body = JSON.stringify({ generation, state: this.state.toSnapshot() });
    await writeFileAtomic(this.dir, SNAPSHOT, encodeFrame(Buffer.from(body)));
    const logName = `wal-${generation}.log`;
    const log = await open(join(this.dir, logName), 'a+');
    await fsyncDir(this.dir);
    await this.log.close();
    this.log = log;
    this.generation = generation;
    this.logRecords = 0;
    await removeOtherLogs(this.dir, logName);
  }
}

function parseJson(bytes: Buffer, what: string): unknown {
  try {
    return JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new FedlearnError('STORE_CORRUPT', `stored ${what} holds a record that is not JSON`);
  }
}

function replay(state: StoreState, op: StoreOp): void {
  try {
    state.apply(op);
  } catch (error) {
    throw new FedlearnError('STORE_CORRUPT', 'the log holds a change that does not apply', { cause: error });
  }
}
