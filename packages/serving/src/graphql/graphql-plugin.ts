import { isFedlearnError } from '@fedlearn/core';
import type { FastifyInstance } from 'fastify';
import { NoSchemaIntrospectionCustomRule, type ValidationRule } from 'graphql';
import mercurius from 'mercurius';
import { type Authenticator, tokenFromHeader } from '../auth/authenticator.js';
import type { ServingConfig } from '../config.js';
import type { InferenceService, ModelLineage, ServedModelInfo } from '../inference/contract.js';
import type { ServingMetrics } from '../metrics/serving-metrics.js';
import { argmax } from '../rest/tensor-json.js';
import { costLimitRule } from './cost-limit.js';
import { FIELD_COSTS, SCHEMA } from './schema.js';

const MODEL_CHANGED = 'MODEL_CHANGED';

const metricList = (metrics: Record<string, number>) =>
  Object.entries(metrics).map(([name, value]) => ({ name, value }));

/** Resolver errors keep their code for clients; unexpected ones do not leak their message. */
function graphqlError(error: unknown): Error {
  if (isFedlearnError(error)) {
    return new mercurius.ErrorWithProps(error.code === 'INTERNAL' ? 'internal error' : error.message, {
      code: error.code,
      ...(typeof error.details['field'] === 'string' ? { field: error.details['field'] } : {}),
    });
  }
  return new mercurius.ErrorWithProps('internal error', { code: 'INTERNAL' });
}

async function guarded<T>(run: () => Promise<T> | T): Promise<T> {
  try {
    return await run();
  } catch (error) {
    throw graphqlError(error);
  }
}

/**
 * GraphQL at `/graphql` (GraphiQL at `/graphiql`): served models with lineage and training metrics,
 * `predict`, `predictBatch` and the `modelChanged` subscription, with depth and cost limits.
 * HTTP requests pass the app's auth hook; a subscription authenticates in its `connection_init`.
 */
export async function registerGraphql(
  app: FastifyInstance,
  service: InferenceService,
  config: ServingConfig['graphql'],
  authenticator: Authenticator,
  metrics?: ServingMetrics,
): Promise<void> {
  const model = (info: ServedModelInfo) => ({
    ...info,
    lineage: info.lineage ? lineage(info.lineage) : null,
    trainingMetrics: async () =>
      (await (service.trainingHistory?.(info.name) ?? [])).map((r) => ({
        ...r,
        metrics: metricList(r.metrics),
      })),
  });
  const lineage = (l: ModelLineage) => ({ ...l, metrics: metricList(l.metrics) });
  const predictRows = async (name: string, instances: number[][]) => {
    const started = performance.now();
    let outcome = 'ok';
    try {
      const spec = service.modelInfo(name).inputs[0]!;
      const width = spec.shape.slice(1);
      const result = await service.infer({
        model: name,
        inputs: [
          {
            name: spec.name,
            datatype: 'FP32',
            shape: [instances.length, ...width],
            data: Float32Array.from(instances.flat()),
          },
        ],
      });
      const out = result.outputs[0]!;
      const classes = out.shape[1] ?? 1;
      const predictions = instances.map((_, i) => {
        const probabilities = Array.from(out.data.subarray(i * classes, (i + 1) * classes));
        return { class: argmax(probabilities), probabilities };
      });
      return { model: result.model, version: result.version, predictions };
    } catch (error) {
      outcome = isFedlearnError(error) ? error.code : 'INTERNAL';
      throw error;
    } finally {
      metrics?.observeRequest('graphql', name, outcome, (performance.now() - started) / 1000);
    }
  };
  const validationRules: ValidationRule[] = [costLimitRule(config.maxCost, FIELD_COSTS)];
  if (!config.introspection) validationRules.push(NoSchemaIntrospectionCustomRule);

  await app.register(mercurius, {
    schema: SCHEMA,
    graphiql: config.graphiql,
    queryDepth: config.maxDepth,
    validationRules,
    // Compile a query (graphql-jit) on its first repeat: the same predict query sent again and again
    // then skips graphql-js's generic execution and its per-element coercion of the instance list.
    jit: 1,
    resolvers: {
      Query: {
        models: () => service.listModels().map(model),
        model: (_root: unknown, args: { name: string }) =>
          guarded(() =>
            service.listModels().some((m) => m.name === args.name)
              ? model(service.modelInfo(args.name))
              : null,
          ),
        predict: (_root: unknown, args: { model: string; instance: number[] }) =>
          guarded(async () => {
            const { model: name, version, predictions } = await predictRows(args.model, [args.instance]);
            return { model: name, version, ...predictions[0]! };
          }),
        predictBatch: (_root: unknown, args: { model: string; instances: number[][] }) =>
          guarded(() => predictRows(args.model, args.instances)),
      },
      Subscription: {
        modelChanged: {
          subscribe: mercurius.withFilter(
            (
              _root: unknown,
              _args: { model?: string | null },
              ctx: { pubsub: { subscribe(topic: string): Promise<unknown> } },
            ) => ctx.pubsub.subscribe(MODEL_CHANGED),
            (payload: { modelChanged: { model: string } }, args: { model?: string | null }) =>
              !args.model || payload.modelChanged.model === args.model,
          ),
        },
      },
    },
    subscription: {
      onConnect: async (data: { payload?: Record<string, unknown> }) => {
        if (!authenticator.enabled) return true;
        const raw = data.payload?.['authorization'] ?? data.payload?.['x-api-key'];
        const token = tokenFromHeader(typeof raw === 'string' ? raw : undefined);
        return authenticator.accepts(token);
      },
    },
  });
  const unsubscribe = service.onSwap((event) => {
    void app.graphql.pubsub.publish({
      topic: MODEL_CHANGED,
      payload: {
        modelChanged: {
          model: event.model,
          previousVersion: event.previousVersion ?? null,
          version: event.version,
          at: new Date(event.at).toISOString(),
        },
      },
    });
  });
  app.addHook('onClose', async () => unsubscribe());
}
