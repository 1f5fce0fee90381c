import * as fsPromises from 'node:fs/promises';
import { join } from 'node:path';
import { type LayersModelArtifacts, toModelJson, WEIGHTS_FILE_NAME } from '@fedlearn/core';

/** The file operations a checkpoint uses, injectable so a test can look between any two of them. */
export type CheckpointFs = Pick<
  typeof fsPromises,
  'lstat' | 'mkdir' | 'rename' | 'rm' | 'symlink' | 'writeFile'
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

  private async writeFolder(target: string, artifacts: LayersModelArtifacts): Promise<void> {
    const temp = `${target}.tmp-${process.pid}`;
    await this.fs.rm(temp, { recursive: true, force: true });
    await this.fs.mkdir(temp, { recursive: true });
    await this.fs.writeFile(
      join(temp, 'model.json'),
      JSON.stringify(toModelJson(artifacts, WEIGHTS_FILE_NAME)),
    );
    await this.fs.writeFile(join(temp, WEIGHTS_FILE_NAME), artifacts.weightData);
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
