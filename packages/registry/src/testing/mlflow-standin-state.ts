import { randomUUID } from 'node:crypto';

/** An MLflow error as the tracking server sends it: HTTP status + `{"error_code","message"}`. */
export class MlflowApiError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}

const notFound = (m: string) => new MlflowApiError(404, 'RESOURCE_DOES_NOT_EXIST', m);
const exists = (m: string) => new MlflowApiError(400, 'RESOURCE_ALREADY_EXISTS', m);
export const invalid = (m: string) => new MlflowApiError(400, 'INVALID_PARAMETER_VALUE', m);

/** MLflow's `_validate_batch_limit`: log-batch caps each kind and the total per request. */
function batchLimit(name: string, limit: number, count: number): void {
  if (count > limit) {
    throw invalid(
      `A batch logging request can contain at most ${limit} ${name}. Got ${count} ${name}. Please split up ${name} across multiple requests and try again.`,
    );
  }
}

export interface Tag {
  key: string;
  value: string;
}
export interface Metric {
  key: string;
  value: number;
  timestamp: number;
  step: number;
}
export interface Experiment {
  experiment_id: string;
  name: string;
  artifact_location: string;
  lifecycle_stage: 'active';
  creation_time: number;
  last_update_time: number;
  tags: Tag[];
}
export interface RunInfo {
  run_id: string;
  run_uuid: string;
  run_name: string;
  experiment_id: string;
  user_id: string;
  status: string;
  start_time: number;
  end_time?: number;
  artifact_uri: string;
  lifecycle_stage: 'active';
}
export interface Run {
  info: RunInfo;
  metrics: Metric[];
  params: Tag[];
  tags: Tag[];
}
export interface ModelVersion {
  name: string;
  version: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  current_stage: 'None';
  description: string;
  source: string;
  run_id: string;
  status: 'READY';
  tags: Tag[];
}
export interface RegisteredModel {
  name: string;
  creation_timestamp: number;
  last_updated_timestamp: number;
  description: string;
  tags: Map<string, string>;
  aliases: Map<string, string>;
  versions: ModelVersion[];
}

/** Everything the stand-in holds, inspectable by tests. */
export class StandInState {
  readonly experiments = new Map<string, Experiment>();
  readonly runs = new Map<string, Run>();
  readonly registeredModels = new Map<string, RegisteredModel>();
  readonly artifacts = new Map<string, Uint8Array>();
  private nextExperiment = 1;

  constructor(
    private readonly artifactRoot: string,
    private readonly now: () => number,
  ) {
    this.experiments.set('0', this.newExperiment('0', 'Default'));
  }

  private newExperiment(id: string, name: string, location?: string): Experiment {
    const t = this.now();
    return {
      experiment_id: id,
      name,
      artifact_location: location || `${this.artifactRoot}/${id}`,
      lifecycle_stage: 'active',
      creation_time: t,
      last_update_time: t,
      tags: [],
    };
  }

  experimentByName(name: string): Experiment {
    for (const e of this.experiments.values()) if (e.name === name) return e;
    throw notFound(`Could not find experiment with name '${name}'`);
  }

  experiment(id: string): Experiment {
    const e = this.experiments.get(id);
    if (!e) throw notFound(`No Experiment with id=${id} exists`);
    return e;
  }

  createExperiment(name: string, location?: string): string {
    if ([...this.experiments.values()].some((e) => e.name === name)) {
      throw exists(`Experiment(name=${name}) already exists. Error: (raised by the stand-in)`);
    }
    const id = String(this.nextExperiment++);
    this.experiments.set(id, this.newExperiment(id, name, location));
    return id;
  }

  createRun(experimentId: string, runName: string, startTime: number, tags: Tag[]): Run {
    const experiment = this.experiment(experimentId);
    const id = randomUUID().replace(/-/g, '');
    const run: Run = {
      info: {
        run_id: id,
        run_uuid: id,
        run_name: runName || `run-${id.slice(0, 6)}`,
        experiment_id: experimentId,
        user_id: '',
        status: 'RUNNING',
        start_time: startTime || this.now(),
        artifact_uri: `${experiment.artifact_location}/${id}/artifacts`,
        lifecycle_stage: 'active',
      },
      metrics: [],
      params: [],
      tags: [...tags],
    };
    // MLflow's create_run keeps the run name in the `mlflow.runName` tag as well.
    if (!run.tags.some((t) => t.key === 'mlflow.runName'))
      run.tags.push({ key: 'mlflow.runName', value: run.info.run_name });
    this.runs.set(id, run);
    return run;
  }

  run(id: string): Run {
    const run = this.runs.get(id);
    if (!run) throw notFound(`Run with id=${id} not found`);
    return run;
  }

  logBatch(runId: string, metrics: Metric[], params: Tag[], tags: Tag[]): void {
    const run = this.run(runId);
    batchLimit('metrics', 1000, metrics.length);
    batchLimit('params', 100, params.length);
    batchLimit('tags', 100, tags.length);
    batchLimit('metrics, params, and tags', 1000, metrics.length + params.length + tags.length);
    for (const p of params) {
      const old = run.params.find((q) => q.key === p.key);
      if (old && old.value !== p.value) {
        throw invalid(
          `Changing param values is not allowed. Param with key='${p.key}' was already logged with value='${old.value}' for run ID='${runId}'. Attempted logging new value '${p.value}'.`,
        );
      }
      if (!old) run.params.push(p);
    }
    run.metrics.push(...metrics);
    for (const t of tags) {
      run.tags = run.tags.filter((u) => u.key !== t.key);
      run.tags.push(t);
    }
  }

  registeredModel(name: string): RegisteredModel {
    const m = this.registeredModels.get(name);
    if (!m) throw notFound(`Registered Model with name=${name} not found`);
    return m;
  }

  createRegisteredModel(name: string, tags: Tag[], description: string): RegisteredModel {
    if (this.registeredModels.has(name)) throw exists(`Registered Model (name=${name}) already exists.`);
    const t = this.now();
    const model: RegisteredModel = {
      name,
      creation_timestamp: t,
      last_updated_timestamp: t,
      description,
      tags: new Map(tags.map((x) => [x.key, x.value])),
      aliases: new Map(),
      versions: [],
    };
    this.registeredModels.set(name, model);
    return model;
  }

  createModelVersion(
    name: string,
    source: string,
    runId: string,
    tags: Tag[],
    description: string,
  ): ModelVersion {
    const model = this.registeredModel(name);
    if (source.split('/').includes('..')) throw invalid(`Invalid model version source: '${source}'.`);
    const t = this.now();
    const version: ModelVersion = {
      name,
      version: String(model.versions.length + 1),
      creation_timestamp: t,
      last_updated_timestamp: t,
      current_stage: 'None',
      description,
      source,
      run_id: runId,
      status: 'READY',
      tags: [...tags],
    };
    model.versions.push(version);
    model.last_updated_timestamp = t;
    return version;
  }

  modelVersion(name: string, version: string): ModelVersion {
    const found = this.registeredModels.get(name)?.versions.find((v) => v.version === version);
    if (!found) throw notFound(`Model Version (name=${name}, version=${version}) not found`);
    return found;
  }

  setAlias(name: string, alias: string, version: string): void {
    if (alias === 'latest' || /^v\d+$/i.test(alias) || !alias) {
      throw invalid(`'${alias}' alias name (case insensitive) is reserved.`);
    }
    const model = this.registeredModel(name);
    this.modelVersion(name, version);
    model.aliases.set(alias, version);
  }

  versionByAlias(name: string, alias: string): ModelVersion {
    const version = this.registeredModels.get(name)?.aliases.get(alias);
    // MLflow answers a missing alias with 400 INVALID_PARAMETER_VALUE, not 404.
    if (version === undefined) throw invalid(`Registered model alias ${alias} not found.`);
    return this.modelVersion(name, version);
  }

  /**
   * A version as MLflow renders it. Only `model-versions/get` and `registered-models/alias` (GET)
   * fill in `aliases` (`_populate_model_version_aliases`); search results, `latest_versions` and
   * create answers come from `SqlModelVersion.to_mlflow_entity()`, whose aliases are always empty,
   * and an empty repeated field is left out of the JSON.
   */
  renderVersion(v: ModelVersion, options: { withAliases: boolean }): Record<string, unknown> {
    const aliases = options.withAliases
      ? [...(this.registeredModels.get(v.name)?.aliases ?? new Map<string, string>())]
          .filter(([, n]) => n === v.version)
          .map(([a]) => a)
      : [];
    return { ...v, ...(v.tags.length ? {} : { tags: undefined }), ...(aliases.length ? { aliases } : {}) };
  }

  renderModel(m: RegisteredModel): Record<string, unknown> {
    const latest = m.versions[m.versions.length - 1];
    return {
      name: m.name,
      creation_timestamp: m.creation_timestamp,
      last_updated_timestamp: m.last_updated_timestamp,
      ...(m.description ? { description: m.description } : {}),
      ...(latest ? { latest_versions: [this.renderVersion(latest, { withAliases: false })] } : {}),
      ...(m.tags.size ? { tags: [...m.tags].map(([key, value]) => ({ key, value })) } : {}),
      ...(m.aliases.size ? { aliases: [...m.aliases].map(([alias, version]) => ({ alias, version })) } : {}),
    };
  }
}
