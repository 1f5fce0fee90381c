import { describe, expect, it } from 'vitest';
import { ManualClock } from '../clock.js';
import { FrameAssembler } from './framing.js';

const head = (id: number, size: number, chunks = Math.max(1, Math.ceil(size / 1000))) => ({
  f: 'm',
  msg: { type: 'fit_res' },
  bin: { id, size, chunks },
});

describe('FrameAssembler memory', () => {
  it('forgets a refused transfer once its last chunk arrives, and never remembers more than a few', () => {
    const assembler = new FrameAssembler({ maxPayloadBytes: 1000, chunkBytes: 1000, maxPending: 4 });
    for (let id = 0; id < 1000; id++) {
      expect(() => assembler.accept(head(id, 3000))).toThrow(/over the limit/);
    }
    expect(assembler.discardedTransfers).toBeLessThanOrEqual(8);
    expect(() => assembler.accept(head(5000, 2000))).toThrow(/over the limit/);
    expect(assembler.accept({ f: 'c', id: 5000, i: 0, data: new Uint8Array(1000) })).toBeUndefined();
    const before = assembler.discardedTransfers;
    expect(assembler.accept({ f: 'c', id: 5000, i: 1, data: new Uint8Array(1000) })).toBeUndefined();
    expect(assembler.discardedTransfers).toBe(before - 1);
  });

  it('counts only received bytes against the cap, refuses past it, and expires with the clock', () => {
    const clock = new ManualClock();
    const expired: string[] = [];
    const assembler = new FrameAssembler({
      maxPayloadBytes: 10_000,
      chunkBytes: 1000,
      maxBufferedBytes: 2500,
      transferTimeoutMs: 50,
      clock,
      onTransferExpired: (error) => expired.push(error.code),
    });
    assembler.accept(head(1, 2000));
    assembler.accept({ f: 'c', id: 1, i: 0, data: new Uint8Array(1000) });
    expect(assembler.bufferedBytes).toBe(1000);
    assembler.accept(head(2, 2000));
    assembler.accept({ f: 'c', id: 2, i: 0, data: new Uint8Array(1000) });
    expect(() => assembler.accept({ f: 'c', id: 2, i: 1, data: new Uint8Array(1000) })).toThrow(
      /would hold over 2500 bytes/,
    );
    expect(assembler.bufferedBytes).toBe(1000);
    clock.advance(50);
    expect(expired).toEqual(['TRANSFER_INCOMPLETE']);
    expect(assembler.bufferedBytes).toBe(0);
  });

  it('copies each chunk into a plain Uint8Array, so later reuse of a Node Buffer cannot change it', () => {
    const assembler = new FrameAssembler({ maxPayloadBytes: 100, chunkBytes: 100 });
    const chunk = Buffer.from([1, 2, 3]);
    assembler.accept(head(1, 3, 1));
    const message = assembler.accept({ f: 'c', id: 1, i: 0, data: chunk });
    chunk.fill(9);
    const payload = message?.params as Uint8Array;
    expect(Object.getPrototypeOf(payload)).toBe(Uint8Array.prototype);
    expect([...payload]).toEqual([1, 2, 3]);
  });
});
