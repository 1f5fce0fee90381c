import type { JobState } from '../events.js';

/**
 * A job as the API shows it (docs/control-api.md): its spec without the initial weights, its
 * place in the queue, and a typed error when it failed.
 */
export function jobView(job: JobState, queue: readonly JobState[]) {
  const { model, ...spec } = job.spec;
  const position = job.status === 'queued' ? queue.indexOf(job) + 1 : 0;
  return {
    id: job.id,
    status: job.status,
    priority: job.priority,
    createdAt: job.createdAt,
    ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    ...(job.finishedAt ? { finishedAt: job.finishedAt } : {}),
    ...(job.currentRound === undefined ? {} : { currentRound: job.currentRound }),
    ...(position > 0 ? { queuePosition: position } : {}),
    ...(job.runId ? { runId: job.runId } : {}),
    ...(job.error ? { error: { code: job.error.code, message: job.error.message } } : {}),
    spec: {
      ...spec,
      model: { name: spec.name, topology: model.topology !== undefined, params: model.params !== undefined },
    },
    rounds: job.rounds,
  };
}
