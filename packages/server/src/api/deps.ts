import type { ModelParams } from '@fedlearn/core';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { ClientRegistry } from '../client-registry.js';
import type { JobState } from '../events.js';
import type { ApiAccess } from '../identity/admin-tokens.js';
import type { ClientEnrollments } from '../identity/enrollment.js';
import type { JobSpecInput } from '../job-spec.js';
import type { JobFeed } from '../jobs/job-feed.js';
import type { SubmitOptions } from '../jobs/job-scheduler.js';

/** What the control API needs from the coordinator, and nothing more. */
export interface ControlApiDeps {
  config: { serverId: string; rateLimits: { apiPerMinute: number } };
  apiAccess: Pick<ApiAccess, 'scopeOf' | 'authorize'>;
  enrollments: ClientEnrollments;
  logger: Logger;
  metrics: { registry: Registry; error(code: string): void };
  clients: ClientRegistry;
  jobs: ReadonlyMap<string, JobState>;
  feed: Pick<JobFeed, 'subscribe' | 'replay' | 'flushed'>;
  queue(): JobState[];
  submit(input: JobSpecInput, options: SubmitOptions): Promise<{ job: JobState; created: boolean }>;
  cancelJob(id: string): Promise<JobState>;
  pauseJob(id: string): Promise<JobState>;
  resumeJob(id: string): Promise<JobState>;
  currentModel(id: string): Promise<{ round: number; params: ModelParams } | undefined>;
}

/**
 * A module of `/v1` routes. It is registered inside the authenticated scope, so every route it
 * adds needs the API token; it reaches the coordinator only through `deps`.
 */
export type ControlRoutes = (app: FastifyInstance, deps: ControlApiDeps) => Promise<void>;
