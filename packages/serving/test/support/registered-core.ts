/** The real serving core over a temporary local registry holding version 1 of the tiny classifier. */
import { startServingBackend } from '../../src/models/backend.js';
import { type ServingCore, startServingCore } from '../../src/serving-core.js';
import { capturingLogger } from '../fixtures/harness.js';
import {
  createTestRegistry,
  MODEL,
  type TestRegistry,
  tinyClassifier,
} from '../fixtures/registered-models.js';

export async function startRegisteredCore(): Promise<{ registry: TestRegistry; core: ServingCore }> {
  await startServingBackend('cpu');
  const registry = await createTestRegistry();
  await registry.register(await tinyClassifier(1));
  const core = await startServingCore({
    source: registry.lifecycle,
    models: [MODEL],
    logger: capturingLogger().logger,
    pollIntervalMs: 0,
  });
  return { registry, core };
}

/** Registers a new version, points `champion` at it and lets the core swap it in. */
export async function promoteNewVersion(
  registry: TestRegistry,
  core: ServingCore,
  seed: number,
): Promise<number> {
  const version = await registry.register(await tinyClassifier(seed));
  await registry.setChampion(version);
  await core.catalog.refresh();
  return version;
}
