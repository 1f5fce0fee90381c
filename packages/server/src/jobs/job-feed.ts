import type { Logger } from 'pino';
import type { CoordinatorEvent, JobState, RoundSummary } from '../events.js';
import type { CoordinatorStore, JobEvent, JsonValue } from '../store/index.js';

type Listener = (event: JobEvent) => void;

/** The event types of a job's progress feed (`GET /v1/jobs/:id/events`). */
export type FeedEventType = 'job_status' | 'round_started' | 'round_completed' | 'job_finished';

/**
 * A job's progress feed: coordinator events become numbered job events, stored first (so a
 * client reconnecting with `Last-Event-ID` replays what it missed, even across a restart), then
 * handed to live subscribers in the same order.
 */
export class JobFeed {
  private readonly listeners = new Map<string, Set<Listener>>();
  private writing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly store: CoordinatorStore,
    private readonly logger: Logger,
  ) {}

  /** Feeds one coordinator event (called for every event; the irrelevant ones are ignored). */
  observe(event: CoordinatorEvent): void {
    const entry = feedEntry(event);
    if (!entry) return;
    this.writing = this.writing
      .then(() => this.store.appendEvent(entry.jobId, { type: entry.type, data: entry.data }))
      .then((stored) => {
        for (const listener of this.listeners.get(stored.jobId) ?? []) listener(stored);
      })
      .catch((error: unknown) => {
        this.logger.warn({ jobId: entry.jobId, err: error }, 'could not record a job event');
      });
  }

  /** Calls `listener` with each new event of `jobId`; returns the unsubscribe function. */
  subscribe(jobId: string, listener: Listener): () => void {
    const set = this.listeners.get(jobId) ?? new Set();
    set.add(listener);
    this.listeners.set(jobId, set);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.listeners.delete(jobId);
    };
  }

  /** The stored events of `jobId` after `afterId`. */
  replay(jobId: string, afterId: number): Promise<JobEvent[]> {
    return this.store.listEvents(jobId, afterId);
  }

  /** Resolves once every event observed so far is stored. */
  flushed(): Promise<void> {
    return this.writing.then(() => undefined);
  }
}

function feedEntry(
  event: CoordinatorEvent,
): { jobId: string; type: FeedEventType; data: JsonValue } | undefined {
  switch (event.type) {
    case 'job_status':
      return { jobId: event.job.id, type: 'job_status', data: statusData(event.job) };
    case 'job_finished':
      return { jobId: event.job.id, type: 'job_finished', data: statusData(event.job) };
    case 'round_started':
      return {
        jobId: event.jobId,
        type: 'round_started',
        data: { jobId: event.jobId, round: event.round, sampled: event.sampled.length },
      };
    case 'round_completed':
      return {
        jobId: event.job.id,
        type: 'round_completed',
        data: { jobId: event.job.id, ...roundSummaryView(event.summary) },
      };
    default:
      return undefined;
  }
}

function statusData(job: JobState): JsonValue {
  return {
    jobId: job.id,
    status: job.status,
    ...(job.currentRound === undefined ? {} : { currentRound: job.currentRound }),
    ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
  };
}

/** A round as the API shows it (`RoundSummary` in docs/control-api.md). */
export function roundSummaryView(s: RoundSummary): { [key: string]: JsonValue } {
  return JSON.parse(
    JSON.stringify({
      round: s.round,
      status: s.status,
      accuracy: s.accuracy,
      loss: s.loss,
      trainLoss: s.trainLoss,
      sampled: s.sampled,
      completed: s.completed,
      dropped: s.dropped,
      timedOut: s.timedOut,
      failed: s.failed,
      seconds: s.seconds,
      bytesUp: s.bytesUp,
      bytesDown: s.bytesDown,
      model: s.model
        ? {
            name: s.model.name,
            version: s.model.version,
            uri: s.model.uri,
            aliases: s.model.aliases,
            promoted: s.model.promoted,
          }
        : undefined,
      error: s.error ? { code: s.error.code, message: s.error.message } : undefined,
    }),
  ) as { [key: string]: JsonValue };
}
