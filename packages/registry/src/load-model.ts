import type { LayersModelArtifacts } from '@fedlearn/core';
import type { MLmodel } from './model-format/mlmodel.js';
import { unpackModelFolder } from './model-format/model-folder.js';
import { parseModelUri } from './names.js';
import type { Registry } from './registry.js';
import type { ModelVersionInfo } from './types.js';

/** A registered model loaded back: tfjs artifacts (`tf.io.fromMemory(artifacts)`), its MLmodel and version. */
export interface LoadedModel {
  artifacts: LayersModelArtifacts;
  mlmodel: MLmodel;
  version: ModelVersionInfo;
}

/**
 * Loads `models:/<name>@<alias>` or `models:/<name>/<version>` from a registry, verifying every
 * file's checksum. No tfjs needed here: the caller turns the artifacts into a model.
 *
 * @example
 * const { artifacts, version } = await loadModel(registry, 'models:/mnist@champion');
 * const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
 */
export async function loadModel(registry: Registry, uri: string): Promise<LoadedModel> {
  const ref = parseModelUri(uri);
  const version =
    'alias' in ref
      ? await registry.getVersionByAlias(ref.name, ref.alias)
      : await registry.getVersion(ref.name, ref.version);
  const files = await registry.getFiles(version.name, version.version);
  const { artifacts, mlmodel } = unpackModelFolder(files);
  return { artifacts, mlmodel, version };
}
