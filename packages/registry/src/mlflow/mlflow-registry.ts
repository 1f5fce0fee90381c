import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { type Clock, FedlearnError, isFedlearnError, systemClock } from '@fedlearn/core';
import { z } from 'zod';
import { createS3Client, type S3Connection } from '../artifact-store/s3-store.js';
import type { ModelFiles } from '../model-format/files.js';
import { assertAlias, assertModelName, parseVersion } from '../names.js';
import { type AliasAudit, type CreateVersionInput, metricsToTags, type Registry, TAGS } from '../registry.js';
import type { AliasMove, ModelVersionInfo, RegisteredModelInfo } from '../types.js';
import type { MlflowHttp } from './http.js';
import { auditMovesFromTags, iso, toVersionInfo } from './mapping.js';
import { getAllPages } from './paging.js';
import { artifactStoreForUri } from './proxy-store.js';
import {
  expectShape,
  type MlflowModelVersion,
  type MlflowRegisteredModel,
  modelVersionSchema,
  recordToTags,
  registeredModelSchema,
} from './schemas.js';
import { MlflowTracking } from './tracking.js';

/** The MLflow client, an S3 connection for runs whose artifacts are not proxied, and a clock. */
export interface MlflowRegistryOptions {
  http: MlflowHttp;
  /** For runs whose artifacts live in S3 when the server does not proxy them. */
  s3?: S3Connection;
  clock?: Pick<Clock, 'now'>;
}

/**
 * The model registry of an MLflow tracking server (2.x or 3.x): registered models, versions
 * created with `source` and `run_id`, aliases (never stages), and alias moves recorded as
 * registered-model tags `fedlearn.audit.<time>.<alias>`.
 */
export class MlflowRegistry implements Registry {
  readonly kind = 'mlflow' as const;
  private readonly http: MlflowHttp;
  private readonly tracking: MlflowTracking;
  private readonly s3: S3Connection | undefined;
  /** One S3 client for every `s3://` version folder, created on first use, closed by `close`. */
  private s3Client: S3Client | undefined;
  private readonly clock: Pick<Clock, 'now'>;

  constructor(options: MlflowRegistryOptions) {
    this.http = options.http;
    this.tracking = new MlflowTracking(options.http);
    this.s3 = options.s3;
    this.clock = options.clock ?? systemClock;
  }

  private async ensureRegisteredModel(name: string): Promise<void> {
    try {
      await this.http.call('GET', 'registered-models/get', { name });
      return;
    } catch (error) {
      if (!isFedlearnError(error, 'REGISTRY_NOT_FOUND')) throw error;
    }
    try {
      await this.http.call('POST', 'registered-models/create', { name });
    } catch (error) {
      if (!isFedlearnError(error, 'REGISTRY_CONFLICT')) throw error;
    }
  }

  async createVersion(input: CreateVersionInput): Promise<ModelVersionInfo> {
    assertModelName(input.name);
    if (!input.runId)
      throw new FedlearnError('INVALID_ARGUMENT', 'an MLflow model version needs the run that produced it');
    const run = await this.tracking.getRun(input.runId);
    const folder =
      input.round !== undefined
        ? `model-round-${input.round}-${randomUUID().slice(0, 8)}`
        : `model-${randomUUID()}`;
    const { store, key } = this.storeFor(`${run.artifact_uri.replace(/\/+$/, '')}/${folder}`);
    await store.putFolder(key, input.files);
    await this.ensureRegisteredModel(input.name);
    const tags = {
      ...input.tags,
      ...metricsToTags(input.metrics),
      ...(input.round !== undefined ? { [TAGS.round]: String(input.round) } : {}),
      ...(input.jobId ? { [TAGS.jobId]: input.jobId } : {}),
    };
    const source = store.uri(key);
    const res = await this.http.call(
      'POST',
      'model-versions/create',
      { name: input.name, source, run_id: input.runId, tags: recordToTags(tags) },
      {
        // MLflow has no idempotency key: before re-sending after a 5xx or a lost connection,
        // look for the version an earlier attempt may have created (its source is unique).
        recover: async () => {
          const found = (await this.searchVersions(input.name)).find((v) => v.source === source);
          return found ? { model_version: found } : undefined;
        },
      },
    );
    const created = expectShape(
      z.object({ model_version: modelVersionSchema }),
      res,
      'model-versions/create',
    );
    return toVersionInfo(created.model_version);
  }

  private async getRegisteredModel(name: string): Promise<MlflowRegisteredModel> {
    assertModelName(name);
    const res = await this.http.call('GET', 'registered-models/get', { name });
    return expectShape(z.object({ registered_model: registeredModelSchema }), res, 'registered-models/get')
      .registered_model;
  }

  async listModels(): Promise<RegisteredModelInfo[]> {
    const models = await getAllPages(
      this.http,
      'registered-models/search',
      'registered_models',
      registeredModelSchema,
      { max_results: 100 },
    );
    return models
      .map((m) => ({
        name: m.name,
        createdAt: iso(m.creation_timestamp),
        aliases: Object.fromEntries(m.aliases.map((a) => [a.alias, a.version])),
        latestVersion: m.latest_versions.length ? Math.max(...m.latest_versions.map((v) => v.version)) : null,
      }))
      .sort((a, b) => (a.name < b.name ? -1 : 1));
  }

  async listVersions(name: string): Promise<ModelVersionInfo[]> {
    // `model-versions/search` leaves `aliases` empty (mlflow/mlflow#9783); the registered model
    // carries them all, so one read of it labels every version.
    const model = await this.getRegisteredModel(name);
    const aliasesOf = new Map<number, string[]>();
    for (const { alias, version } of model.aliases)
      aliasesOf.set(version, [...(aliasesOf.get(version) ?? []), alias]);
    const versions = await this.searchVersions(name);
    return versions
      .map((v) => toVersionInfo({ ...v, aliases: aliasesOf.get(v.version) ?? [] }))
      .sort((a, b) => a.version - b.version);
  }

  /** Every version of `name` (model names are `[A-Za-z0-9._-]`, so the quoted filter is safe). */
  private searchVersions(name: string): Promise<MlflowModelVersion[]> {
    return getAllPages(this.http, 'model-versions/search', 'model_versions', modelVersionSchema, {
      filter: `name='${name}'`,
      max_results: 1000,
    });
  }

  async getVersion(name: string, version: number): Promise<ModelVersionInfo> {
    assertModelName(name);
    const res = await this.http.call('GET', 'model-versions/get', {
      name,
      version: String(parseVersion(version)),
    });
    return toVersionInfo(
      expectShape(z.object({ model_version: modelVersionSchema }), res, 'model-versions/get').model_version,
    );
  }

  async getVersionByAlias(name: string, alias: string): Promise<ModelVersionInfo> {
    assertModelName(name);
    assertAlias(alias);
    try {
      // GetModelVersionByAlias is `GET registered-models/alias` (the same path as set and delete).
      const res = await this.http.call('GET', 'registered-models/alias', { name, alias });
      const parsed = expectShape(
        z.object({ model_version: modelVersionSchema }),
        res,
        'registered-models/alias',
      );
      return toVersionInfo(parsed.model_version);
    } catch (error) {
      // MLflow answers a missing alias with 400 INVALID_PARAMETER_VALUE, not 404.
      if (
        isFedlearnError(error, 'INVALID_ARGUMENT') &&
        error.details['mlflowErrorCode'] === 'INVALID_PARAMETER_VALUE'
      ) {
        throw new FedlearnError('REGISTRY_NOT_FOUND', `model ${name} has no alias ${alias}`, {
          cause: error,
          details: { name, alias, call: 'registered-models/alias', method: 'GET' },
        });
      }
      throw error;
    }
  }

  private async currentAlias(name: string, alias: string): Promise<number | null> {
    try {
      return (await this.getVersionByAlias(name, alias)).version;
    } catch (error) {
      if (isFedlearnError(error, 'REGISTRY_NOT_FOUND')) return null;
      throw error;
    }
  }

  private async record(move: AliasMove): Promise<AliasMove> {
    const key = `${TAGS.auditPrefix}${move.at.replace(/[:]/g, '-')}.${move.alias}.${randomUUID().slice(0, 8)}`;
    await this.http.call('POST', 'registered-models/set-tag', {
      name: move.model,
      key,
      value: JSON.stringify(move),
    });
    return move;
  }

  async setAlias(name: string, alias: string, version: number, audit: AliasAudit): Promise<AliasMove> {
    assertModelName(name);
    assertAlias(alias);
    const v = parseVersion(version);
    const previous = await this.currentAlias(name, alias);
    await this.http.call('POST', 'registered-models/alias', { name, alias, version: String(v) });
    const at = new Date(this.clock.now()).toISOString();
    return this.record({
      at,
      model: name,
      alias,
      version: v,
      previous,
      actor: audit.actor,
      reason: audit.reason,
    });
  }

  async deleteAlias(name: string, alias: string, audit: AliasAudit): Promise<AliasMove> {
    assertModelName(name);
    assertAlias(alias);
    const previous = await this.currentAlias(name, alias);
    await this.http.call('DELETE', 'registered-models/alias', { name, alias });
    const at = new Date(this.clock.now()).toISOString();
    return this.record({
      at,
      model: name,
      alias,
      version: null,
      previous,
      actor: audit.actor,
      reason: audit.reason,
    });
  }

  async auditLog(name: string): Promise<AliasMove[]> {
    const model = await this.getRegisteredModel(name);
    return auditMovesFromTags(model.tags);
  }

  async getFiles(name: string, version: number): Promise<ModelFiles> {
    const info = await this.getVersion(name, version);
    const { store, key } = this.storeFor(info.source);
    return store.getFolder(key);
  }

  private storeFor(uri: string) {
    if (!this.s3 || !uri.startsWith('s3://')) return artifactStoreForUri(uri, { http: this.http });
    this.s3Client ??= createS3Client(this.s3);
    return artifactStoreForUri(uri, { http: this.http, s3: this.s3, s3Client: this.s3Client });
  }

  async close(): Promise<void> {
    this.s3Client?.destroy();
    await this.http.close();
  }
}
