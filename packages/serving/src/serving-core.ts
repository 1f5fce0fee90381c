import type { Logger } from 'pino';
import type { BatchingOptions } from './batching/dynamic-batcher.js';
import type { BatchScheduler } from './batching/scheduler.js';
import { CatalogInferenceService } from './inference/inference-service.js';
import { createServingMetrics, type ServingMetrics } from './metrics/serving-metrics.js';
import { type IntervalTimer, watchAliases } from './models/alias-watcher.js';
import { ModelCatalog, type ModelSource } from './models/model-catalog.js';
import { type ModelTarget, parseModelTarget } from './models/model-target.js';

export interface ServingCoreOptions {
  source: ModelSource;
  /** `name`, `name@alias` or `name/version` (or parsed targets). */
  models: (string | ModelTarget)[];
  logger: Logger;
  batching?: BatchingOptions;
  /** How often aliases are re-resolved; 0 turns watching off. */
  pollIntervalMs?: number;
  metrics?: ServingMetrics;
  scheduler?: BatchScheduler;
  timer?: IntervalTimer;
  now?: () => number;
}

/** The protocol-independent part of serving: models loaded and watched, and the service over them. */
export interface ServingCore {
  service: CatalogInferenceService;
  catalog: ModelCatalog;
  metrics: ServingMetrics;
  close(): void;
}

/**
 * Loads the models and starts watching their aliases.
 *
 * @example
 * const core = await startServingCore({ source: createModelLifecycle(config), models: ['mnist-mlp@champion'], logger });
 * const result = await core.service.infer({ model: 'mnist-mlp', inputs });
 */
export async function startServingCore(options: ServingCoreOptions): Promise<ServingCore> {
  const metrics = options.metrics ?? createServingMetrics();
  const catalog = new ModelCatalog({
    source: options.source,
    targets: options.models.map((m) => (typeof m === 'string' ? parseModelTarget(m) : m)),
    logger: options.logger,
    metrics,
    ...(options.batching ? { batching: options.batching } : {}),
    ...(options.scheduler ? { scheduler: options.scheduler } : {}),
    ...(options.now ? { now: options.now } : {}),
  });
  await catalog.start();
  const interval = options.pollIntervalMs ?? 5000;
  const stopWatching = interval > 0 ? watchAliases(catalog, interval, options.timer) : () => undefined;
  return {
    service: new CatalogInferenceService(catalog, options.now),
    catalog,
    metrics,
    close() {
      stopWatching();
      catalog.close();
    },
  };
}
