import { mkdir, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type LayersModelArtifacts, toModelJson, WEIGHTS_FILE_NAME } from '@fedlearn/core';

/**
 * Writes the global model after each round as a TensorFlow.js layers model folder
 * (`model.json` + one weights file), under `<dir>/<jobId>/round-NNNN/`, and mirrors the newest
 * one at `<dir>/<jobId>/latest/`. Each folder is written beside its place and renamed into it, so
 * a reader never sees half a model.
 */
export class CheckpointWriter {
  constructor(private readonly dir: string) {}

  async save(jobId: string, round: number, artifacts: LayersModelArtifacts): Promise<string> {
    const jobDir = join(this.dir, jobId);
    const target = join(jobDir, `round-${String(round).padStart(4, '0')}`);
    await this.writeFolder(target, artifacts);
    await this.writeFolder(join(jobDir, 'latest'), artifacts);
    return target;
  }

  private async writeFolder(target: string, artifacts: LayersModelArtifacts): Promise<void> {
    const temp = `${target}.tmp-${process.pid}`;
    await rm(temp, { recursive: true, force: true });
    await mkdir(temp, { recursive: true });
    await writeFile(join(temp, 'model.json'), JSON.stringify(toModelJson(artifacts, WEIGHTS_FILE_NAME)));
    await writeFile(join(temp, WEIGHTS_FILE_NAME), artifacts.weightData);
    await rm(target, { recursive: true, force: true });
    await rename(temp, target);
  }
}
