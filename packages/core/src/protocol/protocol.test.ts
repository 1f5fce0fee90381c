import { describe, expect, it } from 'vitest';
import { FedlearnError } from '../errors.js';
import { FrameAssembler, toFrames } from './framing.js';
import { parseClientMessage, parseServerMessage } from './messages.js';
import { assertCompatibleProtocol, PROTOCOL_VERSION } from './version.js';

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return error instanceof FedlearnError ? error.code : `untyped: ${String(error)}`;
  }
  return undefined;
}

const hello = {
  type: 'hello',
  protocolVersion: PROTOCOL_VERSION,
  clientId: 'client-1',
  numExamples: 800,
  numEvalExamples: 80,
  capabilities: { secagg: true, backend: 'wasm' },
};

describe('protocol version handshake', () => {
  it('accepts the same major version and refuses another', () => {
    expect(codeOf(() => assertCompatibleProtocol('1.4.2', '1.0.0'))).toBeUndefined();
    expect(codeOf(() => assertCompatibleProtocol('2.0.0', '1.0.0'))).toBe('PROTOCOL_VERSION_MISMATCH');
    expect(codeOf(() => assertCompatibleProtocol('0.9.0', '1.0.0'))).toBe('PROTOCOL_VERSION_MISMATCH');
    expect(codeOf(() => assertCompatibleProtocol('one', '1.0.0'))).toBe('MALFORMED_MESSAGE');
  });
});

describe('message validation', () => {
  it('accepts well-formed messages', () => {
    expect(parseClientMessage(hello).type).toBe('hello');
    const fitRes = {
      type: 'fit_res',
      jobId: 'j',
      round: 3,
      numExamples: 10,
      metrics: { loss: 0.5 },
      params: new Uint8Array(4),
    };
    expect(parseClientMessage(fitRes).type).toBe('fit_res');
  });

  it.each([
    ['not an object', 42],
    ['unknown type', { type: 'bogus' }],
    ['bad client id', { ...hello, clientId: 'a b/../c' }],
    ['negative examples', { ...hello, numExamples: -1 }],
    [
      'NaN metric',
      { type: 'evaluate_res', jobId: 'j', round: 1, numExamples: 1, loss: Number.NaN, metrics: {} },
    ],
    [
      'params not binary',
      { type: 'fit_res', jobId: 'j', round: 1, numExamples: 1, metrics: {}, params: [1, 2] },
    ],
    [
      'round zero',
      { type: 'fit_res', jobId: 'j', round: 0, numExamples: 1, metrics: {}, params: new Uint8Array() },
    ],
  ])('refuses %s with MALFORMED_MESSAGE', (_name, raw) => {
    expect(codeOf(() => parseClientMessage(raw))).toBe('MALFORMED_MESSAGE');
  });

  it('validates server messages too', () => {
    expect(codeOf(() => parseServerMessage({ type: 'fit_ins', jobId: 'j', round: 1 }))).toBe(
      'MALFORMED_MESSAGE',
    );
    const error = parseServerMessage({ type: 'error', error: { code: 'STALE_ROUND', message: 'late' } });
    expect(error.type === 'error' && error.fatal).toBe(false);
  });
});

describe('framing', () => {
  const payload = Uint8Array.from({ length: 2500 }, (_, i) => i % 251);
  const message = { type: 'fit_res', jobId: 'j', round: 2, params: payload };

  it('chunks and reassembles a binary payload exactly', () => {
    const frames = toFrames(message, 7, 1000);
    expect(frames.length).toBe(4);
    const assembler = new FrameAssembler({ maxPayloadBytes: 10_000, chunkBytes: 1000 });
    const out = frames.map((f) => assembler.accept(f));
    expect(out.slice(0, 3)).toEqual([undefined, undefined, undefined]);
    expect(out[3]).toMatchObject({ type: 'fit_res', round: 2 });
    expect(Array.from(out[3]!.params as Uint8Array)).toEqual(Array.from(payload));
  });

  it('passes messages without binary through in one frame', () => {
    const frames = toFrames({ type: 'heartbeat' }, 1);
    expect(new FrameAssembler({ maxPayloadBytes: 10 }).accept(frames[0])).toEqual({ type: 'heartbeat' });
  });

  it('refuses an oversized payload from its head and ignores its chunks', () => {
    const frames = toFrames(message, 1, 1000);
    const assembler = new FrameAssembler({ maxPayloadBytes: 2000, chunkBytes: 1000 });
    expect(codeOf(() => assembler.accept(frames[0]))).toBe('PAYLOAD_TOO_LARGE');
    for (const frame of frames.slice(1)) expect(assembler.accept(frame)).toBeUndefined();
  });

  it('refuses garbage frames, unknown transfers and wrong chunk lengths', () => {
    const assembler = new FrameAssembler({ maxPayloadBytes: 10_000, chunkBytes: 1000 });
    expect(codeOf(() => assembler.accept('garbage'))).toBe('MALFORMED_MESSAGE');
    expect(codeOf(() => assembler.accept({ f: 'x' }))).toBe('MALFORMED_MESSAGE');
    expect(codeOf(() => assembler.accept({ f: 'c', id: 99, i: 0, data: new Uint8Array(3) }))).toBe(
      'MALFORMED_MESSAGE',
    );
    const frames = toFrames(message, 3, 1000);
    assembler.accept(frames[0]);
    expect(codeOf(() => assembler.accept({ f: 'c', id: 3, i: 0, data: new Uint8Array(5) }))).toBe(
      'MALFORMED_MESSAGE',
    );
    expect(
      codeOf(() => assembler.accept({ f: 'm', msg: { type: 'x' }, bin: { id: 4, size: 10, chunks: 9 } })),
    ).toBe('MALFORMED_MESSAGE');
  });
});
