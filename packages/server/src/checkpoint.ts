import { createHash } from 'node:crypto';
import * as fsPromises from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  decodeParams,
  encodeParams,
  FedlearnError,
  flattenParams,
  float32ToBytes,
  type LayersModelArtifacts,
  specsOf,
  toModelJson,
  unflattenParams,
  WEIGHTS_FILE_NAME,
  weightSpecsFrom,
} from '@fedlearn/core';
import type { GlobalModel } from './round/round-training.js';
import type { CheckpointPointer } from './store/index.js';

/** The global model in the fedlearn params codec: every checkpoint has it, topology or not. */
const PARAMS_FILE = 'params.bin';
const TOPOLOGY_FILE = 'topology.json';

/** The file operations a checkpoint uses, injectable so a test can look between any two of them. */
export type CheckpointFs = Pick<
  typeof fsPromises,
  'lstat' | 'mkdir' | 'readFile' | 'rename' | 'rm' | 'symlink' | 'writeFile'
>;

/**
 * Writes the global model after each round as a TensorFlow.js layers model folder
 * (`model.json` + one weights file) at `<dir>/<jobId>/round-NNNN/`, and points
 * `<dir>/<jobId>/latest` at the newest one.
 *
 * A round's folder is written beside its place and renamed into it, so no reader sees half a
 * model. `latest` is a relative symlink replaced by rename(2), which swaps it atomically: a reader
 * of `latest/model.json` finds the previous model or the new one, never none.
 */
export class CheckpointWriter {
  constructor(
    private readonly dir: string,
    private readonly fs: CheckpointFs = fsPromises,
  ) {}

  async save(jobId: string, round: number, artifacts: LayersModelArtifacts): Promise<string> {
    const jobDir = join(this.dir, jobId);
    const name = `round-${String(round).padStart(4, '0')}`;
    const target = join(jobDir, name);
    await this.writeFolder(target, artifacts);
    await this.pointLatestAt(jobDir, name);
    return target;
  }

  /**
   * Saves a round's global model (round 0: the initial one): `params.bin` always, and the
   * TensorFlow.js files when the model has a topology. The pointer is what the state store keeps.
   */
  async saveModel(
    jobId: string,
    round: number,
    model: GlobalModel,
  ): Promise<{ folder: string; pointer: CheckpointPointer }> {
    const params = encodeParams(unflattenParams(model.flat, model.specs));
    const jobDir = join(this.dir, jobId);
    const name = `round-${String(round).padStart(4, '0')}`;
    const target = join(jobDir, name);
    const artifacts = model.topology
      ? {
          modelTopology: model.topology,
          weightSpecs: weightSpecsFrom(model.specs),
          weightData: float32ToBytes(model.flat),
        }
      : undefined;
    await this.writeFolder(target, artifacts, params, model.topology);
    await this.pointLatestAt(jobDir, name);
    const uri = pathToFileURL(resolve(target, PARAMS_FILE)).href;
    return { folder: target, pointer: { uri, sha256: createHash('sha256').update(params).digest('hex') } };
  }

  /** Reads back a model `saveModel` wrote; a file that does not match its pointer is `STORE_CORRUPT`. */
  async loadModel(pointer: CheckpointPointer, maxBytes: number): Promise<GlobalModel> {
    if (!pointer.uri.startsWith('file:')) {
      throw new FedlearnError('STORE_CORRUPT', 'a checkpoint pointer is not a file URI');
    }
    const file = fileURLToPath(pointer.uri);
    const bytes = await this.fs.readFile(file).catch((error: unknown) => {
      throw new FedlearnError('ARTIFACT_NOT_FOUND', 'the checkpoint of a completed round is missing', {
        cause: error,
      });
    });
    if (createHash('sha256').update(bytes).digest('hex') !== pointer.sha256) {
      throw new FedlearnError(
        'ARTIFACT_CHECKSUM_MISMATCH',
        'a checkpoint does not match its recorded sha256',
      );
    }
    const params = decodeParams(new Uint8Array(bytes), { maxBytes });
    const topologyText = await this.fs
      .readFile(join(file, '..', TOPOLOGY_FILE), 'utf8')
      .catch(() => undefined);
    const topology = topologyText ? (JSON.parse(topologyText) as Record<string, unknown>) : undefined;
    return { specs: specsOf(params), topology, flat: flattenParams(params) };
  }

  private async writeFolder(
    target: string,
    artifacts: LayersModelArtifacts | undefined,
    params?: Uint8Array,
    topology?: Record<string, unknown>,
  ): Promise<void> {
    const temp = `${target}.tmp-${process.pid}`;
    await this.fs.rm(temp, { recursive: true, force: true });
    await this.fs.mkdir(temp, { recursive: true });
    if (artifacts) {
      await this.fs.writeFile(
        join(temp, 'model.json'),
        JSON.stringify(toModelJson(artifacts, WEIGHTS_FILE_NAME)),
      );
      await this.fs.writeFile(join(temp, WEIGHTS_FILE_NAME), artifacts.weightData);
    }
    if (params) await this.fs.writeFile(join(temp, PARAMS_FILE), params);
    if (topology) await this.fs.writeFile(join(temp, TOPOLOGY_FILE), JSON.stringify(topology));
    // A round is written once per job; a folder left by a crashed run of the same job id is replaced.
    await this.fs.rm(target, { recursive: true, force: true });
    await this.fs.rename(temp, target);
  }

  private async pointLatestAt(jobDir: string, name: string): Promise<void> {
    const latest = join(jobDir, 'latest');
    const temp = `${latest}.tmp-${process.pid}`;
    await this.fs.rm(temp, { force: true });
    await this.fs.symlink(name, temp);
    // Checkpoints of older versions made `latest` a folder, which rename cannot replace.
    const existing = await this.fs.lstat(latest).catch(() => undefined);
    if (existing?.isDirectory()) await this.fs.rm(latest, { recursive: true, force: true });
    await this.fs.rename(temp, latest);
  }
}
