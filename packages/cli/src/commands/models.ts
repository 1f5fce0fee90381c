import { parseArgs } from 'node:util';
import { FedlearnError, isFedlearnError } from '@fedlearn/core';
import {
  CHAMPION,
  createRegistry,
  type ModelVersionInfo,
  parseMLmodel,
  parseVersion,
  promote,
  type Registry,
  resolveLifecycleConfig,
} from '@fedlearn/registry';
import type { CommandIo } from './io.js';

type CommandIO = CommandIo;

const USAGE = `Usage: fedlearn models <command> [options]

Commands:
  list [name]                          registered models and their versions
  show <name> [version|@alias]         one version (default: the champion, else the latest)
  promote <name> <version|@alias> [--reason TEXT] [--actor NAME]
                                       make a version the champion (recorded in the audit log)

Options:
  --home DIR   fedlearn home (default: $FEDLEARN_HOME or ./.fedlearn); MLFLOW_TRACKING_URI selects MLflow
  --json       machine-readable output
`;

class UsageError extends Error {}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length)));
  return `${rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i]!))
        .join('  ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

function metricCell(v: ModelVersionInfo, metric: string): string {
  const value = v.metrics[metric];
  return value === undefined ? '-' : String(Number(value.toFixed(4)));
}

async function list(
  registry: Registry,
  name: string | undefined,
  json: boolean,
  io: CommandIO,
): Promise<number> {
  const names = name ? [name] : (await registry.listModels()).map((m) => m.name);
  const versions: ModelVersionInfo[] = [];
  for (const n of names) versions.push(...(await registry.listVersions(n)));
  if (json) {
    io.stdout(`${JSON.stringify(versions, null, 2)}\n`);
    return 0;
  }
  if (versions.length === 0) {
    io.stdout(name ? `model ${name} has no versions\n` : 'no registered models\n');
    return 0;
  }
  const rows = [['NAME', 'VERSION', 'ALIASES', 'ACCURACY', 'CREATED']];
  for (const v of versions)
    rows.push([
      v.name,
      String(v.version),
      v.aliases.join(',') || '-',
      metricCell(v, 'accuracy'),
      v.createdAt,
    ]);
  io.stdout(table(rows));
  return 0;
}

async function resolveVersion(
  registry: Registry,
  name: string,
  ref: string | undefined,
): Promise<ModelVersionInfo> {
  if (ref === undefined) {
    try {
      return await registry.getVersionByAlias(name, CHAMPION);
    } catch (error) {
      if (!isFedlearnError(error, 'REGISTRY_NOT_FOUND')) throw error;
      const all = await registry.listVersions(name);
      const latest = all[all.length - 1];
      if (!latest) throw new FedlearnError('REGISTRY_NOT_FOUND', `model ${name} has no versions`);
      return latest;
    }
  }
  return ref.startsWith('@')
    ? registry.getVersionByAlias(name, ref.slice(1))
    : registry.getVersion(name, parseVersion(ref));
}

async function show(
  registry: Registry,
  name: string,
  ref: string | undefined,
  json: boolean,
  io: CommandIO,
): Promise<number> {
  const version = await resolveVersion(registry, name, ref);
  const files = await registry.getFiles(version.name, version.version);
  const mlmodelBytes = files.get('MLmodel');
  const mlmodel = mlmodelBytes ? parseMLmodel(new TextDecoder().decode(mlmodelBytes)) : undefined;
  if (json) {
    io.stdout(`${JSON.stringify({ version, mlmodel }, null, 2)}\n`);
    return 0;
  }
  const lines = [
    `${version.name} v${version.version}${version.aliases.length ? ` (${version.aliases.join(', ')})` : ''}`,
    `  created:  ${version.createdAt}`,
    `  source:   ${version.source}`,
    ...(version.runId ? [`  run:      ${version.runId}`] : []),
    ...(version.jobId
      ? [`  job:      ${version.jobId}${version.round !== undefined ? `, round ${version.round}` : ''}`]
      : []),
    `  metrics:  ${
      Object.entries(version.metrics)
        .map(
          ([k, v]) =>
            `${k}=${v}${mlmodel?.fedlearn.metricSources[k] ? ` (${mlmodel.fedlearn.metricSources[k]})` : ''}`,
        )
        .join(', ') || '-'
    }`,
  ];
  if (mlmodel) {
    const f = mlmodel.fedlearn;
    const shapes = (ts: { name: string; shape: number[] }[]) =>
      ts.map((t) => `${t.name}[${t.shape.join(',')}]`).join(' ');
    lines.push(
      `  format:   tfjs ${mlmodel.tfjs.format} ${mlmodel.tfjs.tfjsVersion}; inputs ${shapes(mlmodel.signature.inputs)} → outputs ${shapes(mlmodel.signature.outputs)}`,
      `  training: ${f.strategy}, secure aggregation ${f.secureAggregation ? 'on' : 'off'}, differential privacy ${
        f.differentialPrivacy === 'none'
          ? 'none'
          : `${f.differentialPrivacy.mode} (ε = ${f.differentialPrivacy.epsilon.toFixed(2)}, δ = ${f.differentialPrivacy.delta})`
      }`,
      `  lineage:  code ${f.codeVersion}; ${f.dataPartitions.clients} client partitions, ${f.dataPartitions.totalExamples} examples`,
    );
  }
  io.stdout(`${lines.join('\n')}\n`);
  return 0;
}

async function promoteCommand(
  registry: Registry,
  name: string,
  ref: string,
  reason: string | undefined,
  actor: string,
  json: boolean,
  io: CommandIO,
): Promise<number> {
  const target = await resolveVersion(registry, name, ref);
  const move = await promote(registry, name, target.version, {
    actor,
    reason: reason ?? 'manual promotion (fedlearn models promote)',
  });
  if (json) io.stdout(`${JSON.stringify(move, null, 2)}\n`);
  else
    io.stdout(
      `${name}: champion → v${move.version}${move.previous !== null ? ` (was v${move.previous})` : ''} by ${move.actor}: ${move.reason}\n`,
    );
  return 0;
}

/**
 * `fedlearn models list|show|promote`: returns the exit code (0 ok, 1 failed, 2 usage).
 *
 * @example await runModelsCommand(['promote', 'mnist', '3', '--reason', 'A/B won'], { stdout, stderr, env: process.env, cwd: process.cwd() })
 */
export async function runModelsCommand(args: string[], io: CommandIO): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(args);
  } catch (error) {
    io.stderr(`${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, name, ref, ...rest] = positionals;
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  let registry: Registry | undefined;
  try {
    if (!command || !['list', 'show', 'promote'].includes(command))
      throw new UsageError(`unknown command ${command ?? '(none)'}`);
    if (rest.length > 0 || (command === 'list' && ref !== undefined))
      throw new UsageError(`unexpected argument ${rest[0] ?? ref}`);
    if (command !== 'list' && !name) throw new UsageError(`${command} needs a model name`);
    if (command === 'promote' && !ref) throw new UsageError('promote needs a version');
    const config = resolveLifecycleConfig(io.env, {
      cwd: io.cwd,
      ...(values.home ? { home: values.home } : {}),
    });
    registry = createRegistry(config).registry;
    const json = Boolean(values.json);
    if (command === 'list') return await list(registry, name, json, io);
    if (command === 'show') return await show(registry, name!, ref, json, io);
    const actor = values.actor ?? `cli:${io.env['USER'] ?? io.env['USERNAME'] ?? 'unknown'}`;
    return await promoteCommand(registry, name!, ref!, values.reason, actor, json, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    if (isFedlearnError(error)) {
      io.stderr(`error [${error.code}]: ${error.message}\n`);
      return 1;
    }
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  } finally {
    await registry?.close();
  }
}

function parseOptions(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    strict: true,
    options: {
      home: { type: 'string' },
      json: { type: 'boolean' },
      reason: { type: 'string' },
      actor: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}
