import type { Coordinator, JobState } from '@fedlearn/server';
import { bar, formatMetric, type Progress } from './report.js';

/** Resolves once `count` clients have said hello, drawing a progress bar meanwhile. */
export function waitForClients(coordinator: Coordinator, count: number, progress: Progress): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      progress.update(
        `waiting for clients ${bar(coordinator.clients.size, count)} ${coordinator.clients.size}/${count}`,
      );
      if (coordinator.clients.size < count) return false;
      progress.line(`${count} clients connected`);
      return true;
    };
    if (check()) return resolve();
    const off = coordinator.on((event) => {
      if (event.type === 'client_joined' && check()) {
        off();
        resolve();
      }
    });
  });
}

/** Shows live progress of a job (a line per round) and resolves with it once it has finished. */
export function followJob(
  coordinator: Coordinator,
  jobId: string,
  rounds: number,
  progress: Progress,
): Promise<JobState> {
  let roundStart = Date.now();
  let sampled = 0;
  const off = coordinator.on((event) => {
    if (event.type === 'round_started') {
      roundStart = Date.now();
      sampled = event.sampled.length;
      progress.update(`round ${event.round}/${rounds} ${bar(0, sampled)} 0/${sampled} updates`);
    } else if (event.type === 'fit_received') {
      const secs = ((Date.now() - roundStart) / 1000).toFixed(1);
      progress.update(
        `round ${event.round}/${rounds} ${bar(event.completed, sampled)} ${event.completed}/${sampled} updates ${secs}s`,
      );
    } else if (event.type === 'round_completed') {
      const s = event.summary;
      const status =
        s.status === 'ok'
          ? `accuracy ${formatMetric(s.accuracy ?? null)}${s.privacy ? `, ε ${s.privacy.epsilon.toFixed(2)}` : ''}`
          : `failed: ${s.error?.code}`;
      const lost = (s.secagg?.stages ?? [])
        .filter((t) => t.answered < t.expected)
        .map((t) => `${t.expected - t.answered} lost at ${t.stage}`);
      progress.line(
        `round ${s.round}/${rounds}: ${s.completed}/${s.sampled} clients, ${status}, ${s.seconds.toFixed(1)} s` +
          (lost.length > 0 ? ` (secagg: ${lost.join(', ')})` : ''),
      );
    }
  });
  return coordinator.waitForJob(jobId).finally(off);
}
