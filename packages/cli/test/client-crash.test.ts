import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Coordinator, type CoordinatorEvent } from '@fedlearn/server';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { type ClientFleet, spawnClients } from '../src/client-fleet.js';

const BIN = resolve(import.meta.dirname, '../dist/bin.js');
const TOKEN = 'crash-test-client-token-0123456789';

describe('a client killed with SIGKILL mid-round (real processes)', () => {
  const fleets: ClientFleet[] = [];
  let coordinator: Coordinator | undefined;
  afterAll(async () => {
    await Promise.all(fleets.map((f) => f.stop()));
    await coordinator?.stop();
  });

  it('drops out of that round, the job goes on, and the restarted client rejoins a later round', async () => {
    const home = mkdtempSync(join(tmpdir(), 'fedlearn-crash-'));
    const logFile = join(home, 'clients.log');
    coordinator = await Coordinator.start({
      port: 0,
      apiToken: 'crash-test-api-token-0123456789',
      clientToken: TOKEN,
      checkpointDir: join(home, 'checkpoints'),
      logger: pino({ level: 'silent' }),
    });
    const c = coordinator;
    const launch = (index: number) =>
      spawnClients({
        binPath: BIN,
        count: 1,
        firstIndex: index,
        serverUrl: c.url,
        token: TOKEN,
        args: ['--clients', '3', '--seed', '7', '--backend', 'wasm'],
        logFile,
      });
    const initial = [0, 1, 2].map(launch);
    fleets.push(...initial);
    const joined = (count: number) =>
      new Promise<void>((done) => {
        if (c.clients.size >= count) return done();
        const off = c.on((e) => {
          if (e.type === 'client_joined' && e.connected >= count) {
            off();
            done();
          }
        });
      });
    await joined(3);

    const events: CoordinatorEvent[] = [];
    const victim = initial[2]!.processes[0]!;
    let restarted: ClientFleet | undefined;
    c.on((event) => {
      events.push(event);
      if (event.type === 'round_started' && event.round === 2) victim.kill('SIGKILL');
      if (event.type === 'round_completed' && event.summary.round === 2) {
        restarted = launch(2);
        fleets.push(restarted);
      }
    });
    const job = await c.submitJob({
      name: 'crash',
      rounds: 4,
      seed: 7,
      fit: { localEpochs: 1, batchSize: 64, learningRate: 0.1 },
      roundTimeoutMs: 60_000,
      clientWaitMs: 120_000,
      federatedEvaluation: false,
      strategy: { minFitClients: 2, minAvailableClients: 3 },
    });
    const done = await c.waitForJob(job.id);
    expect(done.status).toBe('completed');
    const rounds = done.rounds.map((r) => ({
      round: r.round,
      status: r.status,
      sampled: r.sampled,
      completed: r.completed,
      dropped: r.dropped,
    }));
    expect(rounds[0]).toEqual({ round: 1, status: 'ok', sampled: 3, completed: 3, dropped: 0 });
    expect(rounds[1]).toEqual({ round: 2, status: 'ok', sampled: 3, completed: 2, dropped: 1 });
    // Round 3 waits for three clients, so the restarted one takes part in it.
    expect(rounds[2]).toEqual({ round: 3, status: 'ok', sampled: 3, completed: 3, dropped: 0 });
    expect(rounds[3]).toEqual({ round: 4, status: 'ok', sampled: 3, completed: 3, dropped: 0 });
    const left = events
      .filter((e) => e.type === 'client_left')
      .map((e) => (e as { clientId: string }).clientId);
    expect(left).toEqual(['client-2']);
    const rejoined = events
      .filter((e) => e.type === 'client_joined')
      .map((e) => (e as { clientId: string }).clientId);
    expect(rejoined).toEqual(['client-2']);
    expect(victim.signalCode).toBe('SIGKILL');
    expect(restarted?.processes[0]?.exitCode).toBeNull();
  });
});
