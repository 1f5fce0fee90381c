import { FedlearnError } from '@fedlearn/core';
import type { LoadedModel } from '@fedlearn/registry';
import type { Logger } from 'pino';
import { type BatchingOptions, DEFAULT_BATCHING } from '../batching/dynamic-batcher.js';
import type { BatchScheduler } from '../batching/scheduler.js';
import { DriftMonitor } from '../drift/drift-monitor.js';
import { readDriftReference } from '../drift/drift-reference.js';
import type { ModelSwapEvent } from '../inference/contract.js';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import type { ModelTarget } from './model-target.js';
import { targetUri } from './model-target.js';
import { ServedVersion } from './served-version.js';

/** Where versions come from: `createModelLifecycle(...)` satisfies it. */
export interface ModelSource {
  loadModel(uri: string): Promise<LoadedModel>;
  registry: {
    getVersionByAlias(name: string, alias: string): Promise<{ version: number }>;
    /** The version's files, to find a drift reference beside MLmodel (optional for stand-ins). */
    getFiles?(name: string, version: number): Promise<ReadonlyMap<string, Uint8Array>>;
    listVersions(
      name: string,
    ): Promise<{ version: number; round?: number; jobId?: string; metrics: Record<string, number> }[]>;
  };
}

export interface ModelCatalogOptions {
  source: ModelSource;
  targets: ModelTarget[];
  batching?: BatchingOptions;
  logger: Logger;
  metrics: ServingMetrics;
  scheduler?: BatchScheduler;
  now?: () => number;
}

interface Entry {
  target: ModelTarget;
  current: ServedVersion | undefined;
  /** A version that failed to load, so a poll does not retry it every time. */
  refused: number | undefined;
}

/**
 * The models serving answers from. Each target is loaded at `start`; `refresh` re-resolves the
 * aliases and swaps in a moved alias's version once it is loaded and warm beside the old one.
 */
export class ModelCatalog {
  private readonly entries = new Map<string, Entry>();
  private readonly listeners = new Set<(event: ModelSwapEvent) => void>();
  private refreshing: Promise<void> | undefined;

  constructor(private readonly options: ModelCatalogOptions) {
    for (const target of options.targets) {
      if (this.entries.has(target.name)) {
        throw new FedlearnError('INVALID_CONFIG', `model ${target.name} is listed twice`);
      }
      this.entries.set(target.name, { target, current: undefined, refused: undefined });
    }
  }

  /** Loads every target; a model that cannot load at start is an error (nothing to fall back to). */
  async start(): Promise<void> {
    for (const entry of this.entries.values()) {
      const loaded = await this.options.source.loadModel(targetUri(entry.target));
      this.install(entry, await this.load(loaded));
    }
  }

  /** Polls every alias once; concurrent calls share one pass. */
  refresh(): Promise<void> {
    this.refreshing ??= this.refreshAll().finally(() => {
      this.refreshing = undefined;
    });
    return this.refreshing;
  }

  private async refreshAll(): Promise<void> {
    for (const entry of this.entries.values()) {
      if (!('alias' in entry.target)) continue;
      const { name, alias } = entry.target;
      try {
        const { version } = await this.options.source.registry.getVersionByAlias(name, alias);
        if (String(version) === entry.current?.version || version === entry.refused) continue;
        const loaded = await this.options.source.loadModel(targetUri({ name, version }));
        this.install(entry, await this.load(loaded));
      } catch (error) {
        this.onRefreshFailure(entry, error);
      }
    }
  }

  private onRefreshFailure(entry: Entry, error: unknown): void {
    const code = error instanceof FedlearnError ? error.code : 'INTERNAL';
    const version = error instanceof FedlearnError ? error.details['version'] : undefined;
    if (code === 'MODEL_VERSION_REFUSED') {
      entry.refused = Number(version);
      this.options.metrics.countSwap(entry.target.name, 'refused');
    }
    this.options.logger.error(
      { model: entry.target.name, code, refusedVersion: version, servingVersion: entry.current?.version },
      `model ${entry.target.name}: new version not served (${(error as Error).message}); the old version keeps serving`,
    );
  }

  private async load(loaded: LoadedModel): Promise<ServedVersion> {
    const name = loaded.version.name;
    const served = await ServedVersion.load(
      loaded,
      this.options.batching ?? DEFAULT_BATCHING,
      this.options.scheduler,
      {
        onBatch: (rows) => this.options.metrics.observeBatch(name, rows),
        onQueueDepth: (rows) => this.options.metrics.setQueueDepth(name, rows),
      },
    );
    await this.attachDrift(served);
    return served;
  }

  /** Drift is monitored when the version carries a reference; a bad reference costs drift, not serving. */
  private async attachDrift(served: ServedVersion): Promise<void> {
    const getFiles = this.options.source.registry.getFiles;
    if (!getFiles) return;
    try {
      const files = await getFiles.call(this.options.source.registry, served.name, Number(served.version));
      const reference = readDriftReference(files);
      if (!reference) return;
      if (reference.features !== served.inputWidth) {
        throw new Error(`it has ${reference.features} features, the model takes ${served.inputWidth}`);
      }
      served.drift = new DriftMonitor({
        model: served.name,
        version: served.version,
        reference,
        registry: this.options.metrics.registry,
        logger: this.options.logger,
      });
    } catch (error) {
      this.options.logger.warn(
        { model: served.name, version: served.version, err: error },
        `model ${served.name} v${served.version}: drift reference unusable, serving without drift monitoring`,
      );
    }
  }

  /** The swap itself: one assignment, so every request sees either the old or the new version. */
  private install(entry: Entry, next: ServedVersion): void {
    const previous = entry.current;
    entry.current = next;
    entry.refused = undefined;
    previous?.retire();
    this.options.metrics.setVersionInUse(next.name, Number(next.version));
    if (!previous) return;
    this.options.metrics.countSwap(next.name, 'swapped');
    this.options.logger.info(
      { model: next.name, previousVersion: previous.version, version: next.version },
      `model ${next.name}: now serving v${next.version} (was v${previous.version})`,
    );
    const event: ModelSwapEvent = {
      model: next.name,
      previousVersion: previous.version,
      version: next.version,
      at: (this.options.now ?? Date.now)(),
    };
    for (const listener of this.listeners) listener(event);
  }

  onSwap(listener: (event: ModelSwapEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  names(): string[] {
    return [...this.entries.keys()];
  }

  aliasOf(name: string): string | undefined {
    const target = this.entries.get(name)?.target;
    return target && 'alias' in target ? target.alias : undefined;
  }

  /**
   * The version a new request runs on, already held for it (`release` when done). Synchronous, so
   * a swap cannot slip between choosing a version and holding it.
   */
  acquire(name: string, version?: string): ServedVersion {
    const current = this.entries.get(name)?.current;
    if (!current) {
      throw new FedlearnError('MODEL_NOT_SERVED', `model ${JSON.stringify(name)} is not served here`, {
        details: { model: name, served: this.names() },
      });
    }
    if (version !== undefined && version !== current.version) {
      throw new FedlearnError(
        'MODEL_NOT_SERVED',
        `model ${name} version ${JSON.stringify(version)} is not served here (serving v${current.version})`,
        { details: { model: name, version, serving: current.version } },
      );
    }
    current.acquire();
    return current;
  }

  /** The served version without holding it (metadata only). */
  peek(name: string): ServedVersion | undefined {
    return this.entries.get(name)?.current;
  }

  async history(
    name: string,
  ): Promise<{ round: number; version: string; metrics: Record<string, number> }[]> {
    const current = this.peek(name);
    if (!current) return [];
    const versions = await this.options.source.registry.listVersions(name);
    return versions
      .filter((v) => v.round !== undefined && v.jobId === current.lineage.jobId)
      .map((v) => ({ round: v.round!, version: String(v.version), metrics: v.metrics }));
  }

  close(): void {
    for (const entry of this.entries.values()) {
      entry.current?.retire();
      entry.current = undefined;
    }
  }
}
