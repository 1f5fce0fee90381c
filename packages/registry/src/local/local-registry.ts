import { randomUUID } from 'node:crypto';
import { mkdir, readdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { type Clock, FedlearnError, systemClock } from '@fedlearn/core';
import { z } from 'zod';
import type { ArtifactStore } from '../artifact-store/artifact-store.js';
import { readVerifiedFolder, stageFolder } from '../artifact-store/local-store.js';
import type { ModelFiles } from '../model-format/files.js';
import { assertAlias, assertModelName, parseVersion } from '../names.js';
import { type AliasAudit, type CreateVersionInput, metricsToTags, type Registry, TAGS } from '../registry.js';
import type { AliasMove, ModelVersionInfo, RegisteredModelInfo } from '../types.js';
import {
  appendJsonLine,
  localFsError,
  readJson,
  readJsonLines,
  withDirLock,
  writeJsonAtomic,
} from './fs-json.js';

const versionSchema = z.object({
  name: z.string(),
  version: z.number().int().positive(),
  createdAt: z.string(),
  source: z.string(),
  storeKey: z.string().optional(),
  runId: z.string().optional(),
  round: z.number().int().optional(),
  jobId: z.string().optional(),
  metrics: z.record(z.string(), z.number()),
  tags: z.record(z.string(), z.string()),
});
type VersionRecord = z.infer<typeof versionSchema>;

const modelSchema = z.object({ name: z.string(), createdAt: z.string() });
const aliasesSchema = z.record(z.string(), z.number().int().positive());
const moveSchema = z.object({
  at: z.string(),
  model: z.string(),
  alias: z.string(),
  version: z.number().int().nullable(),
  previous: z.number().int().nullable(),
  actor: z.string(),
  reason: z.string(),
});

/** Where the embedded registry lives, where it puts files, and its clock. */
export interface LocalRegistryOptions {
  /** The fedlearn home (`./.fedlearn` by default); the registry lives in `<home>/registry`. */
  home: string;
  /** Where version files go; by default inside each version's folder. */
  store?: ArtifactStore;
  clock?: Pick<Clock, 'now'>;
}

/**
 * The embedded registry: `<home>/registry/<model>/versions/<n>/` holds each version's files and
 * `version.json`; `aliases.json` and `audit.jsonl` sit beside. Versions are staged then renamed
 * into place while holding a per-model lock, so concurrent writers (threads or processes) get
 * distinct consecutive numbers and readers never see half a version.
 */
export class LocalRegistry implements Registry {
  readonly kind = 'local' as const;
  readonly root: string;
  private readonly store: ArtifactStore | undefined;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(options: LocalRegistryOptions) {
    this.root = join(resolve(options.home), 'registry');
    this.store = options.store;
    this.clock = options.clock ?? systemClock;
  }

  private modelDir(name: string): string {
    assertModelName(name);
    return join(this.root, name);
  }

  private now(): string {
    return new Date(this.clock.now()).toISOString();
  }

  private async requireModel(name: string): Promise<string> {
    const dir = this.modelDir(name);
    if (!(await readJson(join(dir, 'model.json'), modelSchema))) {
      throw new FedlearnError('REGISTRY_NOT_FOUND', `registered model ${name} not found`, {
        details: { name },
      });
    }
    return dir;
  }

  async createVersion(input: CreateVersionInput): Promise<ModelVersionInfo> {
    const dir = this.modelDir(input.name);
    let storeKey: string | undefined;
    let staged: string | undefined;
    try {
      await mkdir(join(dir, 'versions'), { recursive: true });
      if (this.store) {
        storeKey = `${input.name}/${randomUUID()}`;
        await this.store.putFolder(storeKey, input.files);
        staged = join(dir, '.staging', randomUUID());
        await mkdir(staged, { recursive: true });
      } else {
        staged = (await stageFolder(dir, input.files)).dir;
      }
      const folder = staged;
      return await withDirLock(dir, async () => {
        if (!(await readJson(join(dir, 'model.json'), modelSchema))) {
          await writeJsonAtomic(join(dir, 'model.json'), { name: input.name, createdAt: this.now() });
        }
        const version = (await this.versionNumbers(dir)).reduce((max, n) => Math.max(max, n), 0) + 1;
        const record: VersionRecord = {
          name: input.name,
          version,
          createdAt: this.now(),
          source: storeKey && this.store ? this.store.uri(storeKey) : '.',
          ...(storeKey ? { storeKey } : {}),
          ...(input.runId ? { runId: input.runId } : {}),
          ...(input.round !== undefined ? { round: input.round } : {}),
          ...(input.jobId ? { jobId: input.jobId } : {}),
          metrics: { ...input.metrics },
          tags: {
            ...input.tags,
            ...metricsToTags(input.metrics),
            ...(input.round !== undefined ? { [TAGS.round]: String(input.round) } : {}),
            ...(input.jobId ? { [TAGS.jobId]: input.jobId } : {}),
          },
        };
        await writeJsonAtomic(join(folder, 'version.json'), record);
        await rename(folder, join(dir, 'versions', String(version)));
        return this.toInfo(record, await this.aliases(dir));
      });
    } catch (error) {
      if (staged) await rm(staged, { recursive: true, force: true }).catch(() => undefined);
      throw localFsError(error, `register a version of ${input.name} under ${this.root}`);
    }
  }

  private async versionNumbers(dir: string): Promise<number[]> {
    const entries = await readdir(join(dir, 'versions')).catch(() => [] as string[]);
    return entries.filter((e) => /^[1-9][0-9]*$/.test(e)).map(Number);
  }

  private async aliases(dir: string): Promise<Record<string, number>> {
    return (await readJson(join(dir, 'aliases.json'), aliasesSchema)) ?? {};
  }

  private toInfo(record: VersionRecord, aliases: Record<string, number>): ModelVersionInfo {
    return {
      name: record.name,
      version: record.version,
      createdAt: record.createdAt,
      aliases: Object.entries(aliases)
        .filter(([, v]) => v === record.version)
        .map(([a]) => a)
        .sort(),
      source:
        record.source === '.'
          ? join(this.root, record.name, 'versions', String(record.version))
          : record.source,
      ...(record.runId ? { runId: record.runId } : {}),
      ...(record.round !== undefined ? { round: record.round } : {}),
      ...(record.jobId ? { jobId: record.jobId } : {}),
      metrics: record.metrics,
      tags: record.tags,
    };
  }

  private async record(dir: string, name: string, version: number): Promise<VersionRecord> {
    const record = await readJson(join(dir, 'versions', String(version), 'version.json'), versionSchema);
    if (!record) {
      throw new FedlearnError('REGISTRY_NOT_FOUND', `model ${name} has no version ${version}`, {
        details: { name, version },
      });
    }
    return record;
  }

  async listModels(): Promise<RegisteredModelInfo[]> {
    const entries = await readdir(this.root, { withFileTypes: true }).catch(() => []);
    const out: RegisteredModelInfo[] = [];
    for (const entry of entries
      .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
      .sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const dir = join(this.root, entry.name);
      const model = await readJson(join(dir, 'model.json'), modelSchema);
      if (!model) continue;
      const versions = await this.versionNumbers(dir);
      out.push({
        name: model.name,
        createdAt: model.createdAt,
        aliases: await this.aliases(dir),
        latestVersion: versions.length ? Math.max(...versions) : null,
      });
    }
    return out;
  }

  async listVersions(name: string): Promise<ModelVersionInfo[]> {
    const dir = await this.requireModel(name);
    const aliases = await this.aliases(dir);
    const numbers = (await this.versionNumbers(dir)).sort((a, b) => a - b);
    return Promise.all(numbers.map(async (n) => this.toInfo(await this.record(dir, name, n), aliases)));
  }

  async getVersion(name: string, version: number): Promise<ModelVersionInfo> {
    const dir = await this.requireModel(name);
    return this.toInfo(await this.record(dir, name, parseVersion(version)), await this.aliases(dir));
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersionInfo> {
    assertAlias(alias);
    const dir = await this.requireModel(name);
    const aliases = await this.aliases(dir);
    const version = aliases[alias];
    if (version === undefined) {
      throw new FedlearnError('REGISTRY_NOT_FOUND', `model ${name} has no alias ${alias}`, {
        details: { name, alias },
      });
    }
    return this.toInfo(await this.record(dir, name, version), aliases);
  }

  private async moveAlias(
    name: string,
    alias: string,
    version: number | null,
    audit: AliasAudit,
  ): Promise<AliasMove> {
    assertAlias(alias);
    const dir = await this.requireModel(name);
    return withDirLock(dir, async () => {
      if (version !== null) await this.record(dir, name, version);
      const aliases = await this.aliases(dir);
      const previous = aliases[alias] ?? null;
      if (version === null) delete aliases[alias];
      else aliases[alias] = version;
      const move: AliasMove = {
        at: this.now(),
        model: name,
        alias,
        version,
        previous,
        actor: audit.actor,
        reason: audit.reason,
      };
      await writeJsonAtomic(join(dir, 'aliases.json'), aliases);
      await appendJsonLine(join(dir, 'audit.jsonl'), move);
      return move;
    });
  }

  setAlias(name: string, alias: string, version: number, audit: AliasAudit): Promise<AliasMove> {
    return this.moveAlias(name, alias, parseVersion(version), audit);
  }

  deleteAlias(name: string, alias: string, audit: AliasAudit): Promise<AliasMove> {
    return this.moveAlias(name, alias, null, audit);
  }

  async auditLog(name: string): Promise<AliasMove[]> {
    const dir = await this.requireModel(name);
    return readJsonLines(join(dir, 'audit.jsonl'), moveSchema);
  }

  async getFiles(name: string, version: number): Promise<ModelFiles> {
    const dir = await this.requireModel(name);
    const record = await this.record(dir, name, parseVersion(version));
    if (record.storeKey) {
      if (!this.store) {
        throw new FedlearnError(
          'INVALID_CONFIG',
          `${name}/${version} lives in ${record.source}; configure that artifact store`,
        );
      }
      return this.store.getFolder(record.storeKey);
    }
    const files = await readVerifiedFolder(join(dir, 'versions', String(version)), `${name}/${version}`);
    return files;
  }

  async close(): Promise<void> {
    await this.store?.close?.();
  }
}
