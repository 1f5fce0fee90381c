import { isAbsolute, join, resolve } from 'node:path';
import { FedlearnError } from '@fedlearn/core';
import { z } from 'zod';
import type { S3Connection } from './artifact-store/s3-store.js';
import { DEFAULT_PROMOTION_POLICY, type PromotionPolicy, promotionPolicySchema } from './promotion.js';

/** Everything the model lifecycle needs, resolved once at the edge. */
export interface LifecycleConfig {
  /** `FEDLEARN_HOME` or `<cwd>/.fedlearn`: the same place for the coordinator, the CLI and serving. */
  home: string;
  registry:
    | { kind: 'local' }
    | {
        kind: 'mlflow';
        trackingUri: string;
        experimentName: string;
        token?: string;
        username?: string;
        password?: string;
      };
  /** Where the local registry puts version files (`local`: in the version folder). */
  artifacts: { kind: 'local' } | { kind: 's3'; bucket: string; prefix: string };
  /** Set when an S3 endpoint or credentials are configured (MinIO, AWS). */
  s3?: S3Connection;
  promotion: PromotionPolicy;
  retry: { maxRetries: number; baseDelayMs: number; maxDelayMs: number };
}

/** Job options that override the environment (e.g. from `--home` or a job spec). */
export interface LifecycleOverrides {
  cwd?: string;
  home?: string;
  trackingUri?: string | null;
  experimentName?: string;
  artifactStore?: 'local' | 's3';
  bucket?: string;
  promotion?: Partial<PromotionPolicy>;
  retry?: Partial<LifecycleConfig['retry']>;
}

const optionalText = z.string().trim().min(1).optional();
const envSchema = z.object({
  FEDLEARN_HOME: optionalText,
  FEDLEARN_ARTIFACT_STORE: z.enum(['local', 's3']).optional(),
  FEDLEARN_S3_BUCKET: optionalText,
  MLFLOW_TRACKING_URI: optionalText,
  MLFLOW_EXPERIMENT_NAME: optionalText,
  MLFLOW_TRACKING_TOKEN: optionalText,
  MLFLOW_TRACKING_USERNAME: optionalText,
  MLFLOW_TRACKING_PASSWORD: optionalText,
  AWS_ENDPOINT_URL_S3: z.url().optional(),
  MLFLOW_S3_ENDPOINT_URL: z.url().optional(),
  AWS_ACCESS_KEY_ID: optionalText,
  AWS_SECRET_ACCESS_KEY: optionalText,
  AWS_REGION: optionalText,
  AWS_DEFAULT_REGION: optionalText,
});

const retrySchema = z.object({
  maxRetries: z.number().int().min(0).max(20),
  baseDelayMs: z.number().min(0).max(60_000),
  maxDelayMs: z.number().min(0).max(600_000),
});

function blankToUndefined(env: Record<string, string | undefined>): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(env).map(([k, v]) => [k, v === undefined || v.trim() === '' ? undefined : v]),
  );
}

function configError(where: string, error: z.ZodError): FedlearnError {
  const issues = error.issues.map((i) => `${[where, ...i.path].join('.')}: ${i.message}`).join('; ');
  return new FedlearnError('INVALID_CONFIG', `invalid model lifecycle configuration: ${issues}`);
}

/**
 * Resolves the lifecycle configuration from the environment and job options. With nothing set
 * it is the embedded default: a local registry under `<cwd>/.fedlearn`.
 *
 * @example
 * const config = resolveLifecycleConfig(process.env, { cwd: process.cwd() });
 * // MLFLOW_TRACKING_URI=http://localhost:5001 → MLflow registry; AWS_ENDPOINT_URL_S3 → S3/MinIO
 */
export function resolveLifecycleConfig(
  env: Record<string, string | undefined>,
  overrides: LifecycleOverrides = {},
): LifecycleConfig {
  const parsed = envSchema.safeParse(blankToUndefined(env));
  if (!parsed.success) throw configError('env', parsed.error);
  const e = parsed.data;
  const cwd = overrides.cwd ?? process.cwd();
  const homeRaw = overrides.home ?? e.FEDLEARN_HOME ?? join(cwd, '.fedlearn');
  const home = isAbsolute(homeRaw) ? homeRaw : resolve(cwd, homeRaw);

  const trackingUri =
    overrides.trackingUri === null ? undefined : (overrides.trackingUri ?? e.MLFLOW_TRACKING_URI);
  let registry: LifecycleConfig['registry'] = { kind: 'local' };
  if (trackingUri) {
    if (!/^https?:\/\//.test(trackingUri)) {
      throw new FedlearnError(
        'INVALID_CONFIG',
        `MLFLOW_TRACKING_URI must be an http(s) URL of a tracking server (got a ${/^[a-z][a-z0-9+.-]*:/i.exec(trackingUri)?.[0] ?? 'schemeless'} URI); unset it for the local registry`,
      );
    }
    registry = {
      kind: 'mlflow',
      trackingUri,
      experimentName: overrides.experimentName ?? e.MLFLOW_EXPERIMENT_NAME ?? 'fedlearn',
      ...(e.MLFLOW_TRACKING_TOKEN ? { token: e.MLFLOW_TRACKING_TOKEN } : {}),
      ...(e.MLFLOW_TRACKING_USERNAME ? { username: e.MLFLOW_TRACKING_USERNAME } : {}),
      ...(e.MLFLOW_TRACKING_PASSWORD ? { password: e.MLFLOW_TRACKING_PASSWORD } : {}),
    };
  }

  const endpoint = e.AWS_ENDPOINT_URL_S3 ?? e.MLFLOW_S3_ENDPOINT_URL;
  if (Boolean(e.AWS_ACCESS_KEY_ID) !== Boolean(e.AWS_SECRET_ACCESS_KEY)) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'set both AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or neither',
    );
  }
  const s3: S3Connection | undefined =
    endpoint || e.AWS_ACCESS_KEY_ID
      ? {
          ...(endpoint ? { endpoint } : {}),
          region: e.AWS_REGION ?? e.AWS_DEFAULT_REGION ?? 'us-east-1',
          forcePathStyle: Boolean(endpoint),
          ...(e.AWS_ACCESS_KEY_ID
            ? { accessKeyId: e.AWS_ACCESS_KEY_ID, secretAccessKey: e.AWS_SECRET_ACCESS_KEY }
            : {}),
        }
      : undefined;

  const storeKind = overrides.artifactStore ?? e.FEDLEARN_ARTIFACT_STORE ?? 'local';
  if (storeKind === 's3' && !s3) {
    throw new FedlearnError(
      'INVALID_CONFIG',
      'the S3 artifact store needs AWS_ENDPOINT_URL_S3 (MinIO) or AWS credentials',
    );
  }
  const bucket = overrides.bucket ?? e.FEDLEARN_S3_BUCKET ?? 'mlflow';
  if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) {
    throw new FedlearnError('INVALID_CONFIG', `invalid S3 bucket name ${JSON.stringify(bucket)}`);
  }

  const promotion = promotionPolicySchema.safeParse({ ...DEFAULT_PROMOTION_POLICY, ...overrides.promotion });
  if (!promotion.success) throw configError('promotion', promotion.error);
  const retry = retrySchema.safeParse({
    maxRetries: 5,
    baseDelayMs: 250,
    maxDelayMs: 8_000,
    ...overrides.retry,
  });
  if (!retry.success) throw configError('retry', retry.error);

  return {
    home,
    registry,
    artifacts: storeKind === 's3' ? { kind: 's3', bucket, prefix: 'fedlearn/models' } : { kind: 'local' },
    ...(s3 ? { s3 } : {}),
    promotion: promotion.data,
    retry: retry.data,
  };
}

/** `https://user:secret@host/` → `https://user:***@host/`. */
function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    if (!url.password) return uri;
    url.password = '***';
    return url.href;
  } catch {
    return '***';
  }
}

/**
 * The configuration with secrets replaced (token, passwords, the secret key, credentials in
 * the tracking URI), safe to log.
 *
 * @example logger.info({ lifecycle: redactConfig(config) }, 'model lifecycle configured')
 */
export function redactConfig(config: LifecycleConfig): LifecycleConfig {
  const hide = (v: string | undefined) => (v === undefined ? undefined : '***');
  return {
    ...config,
    registry:
      config.registry.kind === 'mlflow'
        ? (Object.fromEntries(
            Object.entries({
              ...config.registry,
              trackingUri: redactUri(config.registry.trackingUri),
              token: hide(config.registry.token),
              password: hide(config.registry.password),
            }).filter(([, v]) => v !== undefined),
          ) as LifecycleConfig['registry'])
        : config.registry,
    ...(config.s3
      ? {
          s3: Object.fromEntries(
            Object.entries({ ...config.s3, secretAccessKey: hide(config.s3.secretAccessKey) }).filter(
              ([, v]) => v !== undefined,
            ),
          ) as unknown as S3Connection,
        }
      : {}),
  };
}
