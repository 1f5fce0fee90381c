import { nativeAddMasks } from './native-keystream.js';
import type { MaskJob } from './prg.js';

/**
 * One worker's share of a mask expansion: every job's mask over the words [from, to) of a vector
 * in shared memory. Workers own disjoint ranges, so they never write the same word.
 */
export interface KeystreamTask {
  /** Int32Array [finished tasks, failed tasks]; the worker bumps one and notifies on index 0. */
  readonly control: SharedArrayBuffer;
  readonly sum: SharedArrayBuffer;
  /** A multiple of 16 (a ChaCha20 block), so each range starts its own block counter. */
  readonly from: number;
  readonly to: number;
  /** 32 bytes per job. */
  readonly seeds: Uint8Array;
  readonly signs: Int8Array;
}

/** What a keystream worker posts once it is listening. */
export const KEYSTREAM_WORKER_READY = 'fedlearn/keystream-worker/ready';

/** Runs one task and reports through `control`; never throws (a worker has no one to throw to). */
export function runKeystreamTask(task: KeystreamTask): void {
  const control = new Int32Array(task.control);
  try {
    const out = new Uint32Array(task.sum, task.from * 4, task.to - task.from);
    const jobs: MaskJob[] = Array.from(task.signs, (sign, j) => ({
      seed: task.seeds.subarray(32 * j, 32 * j + 32),
      sign: sign === 1 ? 1 : -1,
    }));
    nativeAddMasks(out, jobs, task.from);
  } catch {
    Atomics.add(control, 1, 1);
  } finally {
    Atomics.add(control, 0, 1);
    Atomics.notify(control, 0);
  }
}
