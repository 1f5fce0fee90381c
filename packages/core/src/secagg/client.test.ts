import { describe, expect, it } from 'vitest';
import { seededRandomBytes } from '../random.js';
import { createSecAggClient } from './client.js';
import { liveRound } from './harness.js';
import type { SecAggServerMessage, SecAggShares } from './messages.js';
import type { SecAggServerStep } from './round-types.js';

const messageFor = (step: SecAggServerStep, to: string): SecAggServerMessage => {
  if (step.kind !== 'send') throw new Error(step.kind);
  return step.messages.find((m) => m.to === to)!.message;
};

const expectError = (f: () => unknown, code: string, clientId: string) =>
  expect(f).toThrowError(expect.objectContaining({ code, details: expect.objectContaining({ clientId }) }));

describe('client state machine refuses bad input', () => {
  it('a forged, truncated or misrouted share bundle is reported with its sender, and masking goes on', () => {
    const variants: ((
      first: SecAggShares['shares'][number],
      second: SecAggShares['shares'][number],
    ) => Uint8Array)[] = [
      (first) => first.ciphertext.map((b, i) => (i === 40 ? b ^ 0x80 : b)),
      (first) => first.ciphertext.subarray(0, 30),
      // second's bundle presented as coming from first: bound to the pair, so it does not open.
      (_first, second) => second.ciphertext,
    ];
    for (const forge of variants) {
      const round = liveRound();
      const shares = messageFor(round.exchange(round.advertise()), 'client-0') as SecAggShares;
      const [first, second] = shares.shares;
      const tampered = {
        ...shares,
        shares: [{ from: first!.from, ciphertext: forge(first!, second!) }, ...shares.shares.slice(1)],
      };
      const reply = round.clients.get('client-0')!.handle(tampered, round.input);
      expect(reply.type).toBe('secagg/masked-input');
      expect(reply.type === 'secagg/masked-input' ? reply.refusedShares : undefined).toEqual([first!.from]);
    }
  });

  it('keys of a client that is not a neighbour are refused', () => {
    const round = liveRound(10, 7, { neighbours: 4, threshold: 3 });
    const step = round.advertise();
    const keys = messageFor(step, 'client-0');
    if (keys.type !== 'secagg/keys') throw new Error(keys.type);
    const stranger = round.ids.find((id) => id !== 'client-0' && !keys.keys.some((k) => k.clientId === id))!;
    const forged = { ...keys, keys: [...keys.keys, { ...keys.keys[0]!, clientId: stranger }] };
    expectError(() => round.clients.get('client-0')!.handle(forged), 'SECAGG_BAD_KEY', stranger);
  });

  it('an unmasking request that lists a neighbour as both alive and dropped is refused', () => {
    const round = liveRound();
    const request = messageFor(round.exchange(round.exchange(round.advertise())), 'client-0');
    if (request.type !== 'secagg/unmask-request') throw new Error(request.type);
    const both = { ...request, dropped: [request.survivors[0]!] };
    expectError(() => round.clients.get('client-0')!.handle(both), 'MALFORMED_MESSAGE', 'client-0');
  });

  it('messages for the wrong stage or round are refused', () => {
    const round = liveRound();
    const client = round.clients.get('client-1')!;
    expectError(
      () => client.handle({ type: 'secagg/keys', round: 3, keys: [] }),
      'SECAGG_WRONG_STAGE',
      'client-1',
    );
    client.advertiseKeys();
    expect(() => client.handle({ type: 'secagg/keys', round: 4, keys: [] })).toThrowError(
      expect.objectContaining({ code: 'STALE_ROUND' }),
    );
    expect(() => client.handle({ type: 'secagg/shares', round: 3, shares: [] })).toThrowError(
      expect.objectContaining({ code: 'SECAGG_WRONG_STAGE' }),
    );
  });

  it('a weight above maxWeight is an error, not a warning', () => {
    const round = liveRound();
    const shares = messageFor(round.exchange(round.advertise()), 'client-0');
    expect(() =>
      round.clients.get('client-0')!.handle(shares, { update: new Float32Array(8), weight: 11 }),
    ).toThrowError(expect.objectContaining({ code: 'SECAGG_WEIGHT_TOO_LARGE' }));
  });

  it('a client not listed in the setup cannot join', () => {
    const round = liveRound();
    expectError(
      () => createSecAggClient(round.server.setup, 'mallory', { randomBytes: seededRandomBytes(1) }),
      'NOT_SAMPLED',
      'mallory',
    );
  });
});
