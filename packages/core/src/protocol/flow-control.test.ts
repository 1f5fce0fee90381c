import { describe, expect, it } from 'vitest';
import { FedlearnError } from '../errors.js';
import { FrameSender } from './frame-sender.js';
import { type AckFrame, type Frame, FrameAssembler, toFrames } from './framing.js';

const payload = (size: number) => Uint8Array.from({ length: size }, (_, i) => (i * 7) % 251);

/** A sender and a receiver joined by two queues the test drains by hand, so every step is visible. */
function link(options: {
  window: number;
  chunkBytes: number;
  admit?: (size: number, grant: () => void) => () => void;
}) {
  const wire: Frame[] = [];
  const acks: AckFrame[] = [];
  const sender = new FrameSender((frame) => wire.push(frame), {
    chunkBytes: options.chunkBytes,
    window: options.window,
  });
  const assembler = new FrameAssembler({ maxPayloadBytes: 1 << 20, chunkBytes: 64 * 1024 });
  assembler.setFlowControl({
    window: options.window,
    sendAck: (ack) => acks.push(ack),
    ...(options.admit ? { admit: options.admit } : {}),
  });
  const received: Record<string, unknown>[] = [];
  /** Delivers what is on the wire, then the acks, until both are empty. */
  const pump = async () => {
    for (let turn = 0; turn < 1000 && (wire.length > 0 || acks.length > 0); turn++) {
      for (const frame of wire.splice(0)) {
        const message = assembler.accept(frame);
        if (message) received.push(message);
      }
      for (const ack of acks.splice(0)) sender.acknowledge(ack);
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  return { wire, acks, sender, assembler, received, pump };
}

const chunksOn = (wire: Frame[]) => wire.filter((f) => f.f === 'c').length;

describe('flow-controlled transfer', () => {
  it('sends nothing before admission, then never more than the window beyond the last ack', async () => {
    let grant: (() => void) | undefined;
    const { wire, acks, sender, assembler, received, pump } = link({
      window: 2,
      chunkBytes: 1024,
      admit: (_size, g) => {
        grant = g;
        return () => undefined;
      },
    });
    const data = payload(10 * 1024 + 5);
    const sent = sender.send({ type: 'fit_res', params: data });
    await new Promise((resolve) => setImmediate(resolve));
    expect(wire.map((f) => f.f)).toEqual(['m']);
    assembler.accept(wire.shift());
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunksOn(wire)).toBe(0);
    grant!();
    expect(acks).toEqual([{ f: 'a', id: 0, n: 0 }]);
    sender.acknowledge(acks.shift()!);
    await new Promise((resolve) => setImmediate(resolve));
    expect(chunksOn(wire)).toBe(2);
    await pump();
    await sent;
    expect(received).toHaveLength(1);
    expect(received[0]!.params).toEqual(data);
  });

  it("takes the sender's chunk size from the head, whatever the receiver's default", async () => {
    const { sender, received, pump } = link({ window: 4, chunkBytes: 4096 });
    const data = payload(50_000);
    const sent = sender.send({ type: 'fit_res', params: data });
    await pump();
    await sent;
    expect(received[0]!.params).toEqual(data);
  });

  it('refuses a chunk sent before its transfer was admitted, and tells the sender to stop', () => {
    const assembler = new FrameAssembler({ maxPayloadBytes: 1 << 20, chunkBytes: 1024 });
    const acks: AckFrame[] = [];
    let released = 0;
    assembler.setFlowControl({
      window: 4,
      sendAck: (ack) => acks.push(ack),
      admit: () => () => void released++,
    });
    const [head, first] = toFrames({ type: 'fit_res', params: payload(3000) }, 7, 1024);
    assembler.accept(head);
    expect(acks).toEqual([]);
    expect(() => assembler.accept(first)).toThrow(/beyond the acknowledged window/);
    expect(acks).toEqual([{ f: 'a', id: 7, n: -1 }]);
    expect(released).toBe(1);
    expect(assembler.bufferedBytes).toBe(0);
  });

  it('refuses a payload whose bytes do not match its SHA-256, with TRANSFER_CHECKSUM_MISMATCH', () => {
    const assembler = new FrameAssembler({ maxPayloadBytes: 1 << 20, chunkBytes: 1024 });
    const frames = toFrames({ type: 'fit_res', params: payload(2048) }, 1, 1024);
    const tampered = { ...(frames[2] as object), data: new Uint8Array(1024) };
    assembler.accept(frames[0]);
    assembler.accept(frames[1]);
    expect(() => assembler.accept(tampered)).toThrow(
      expect.objectContaining({ code: 'TRANSFER_CHECKSUM_MISMATCH' }) as FedlearnError,
    );
    expect(assembler.bufferedBytes).toBe(0);
  });

  it('refuses a head announcing chunks larger than the receiver accepts', () => {
    const assembler = new FrameAssembler({ maxPayloadBytes: 1 << 20, chunkBytes: 1024 });
    const [head] = toFrames({ type: 'fit_res', params: payload(5000) }, 1, 4096);
    expect(() => assembler.accept(head)).toThrow(/chunk size must be an integer from 1024 to 1024/);
  });

  it('stops the sender when the receiver refuses the transfer, and fails sends in flight on close', async () => {
    const wire: Frame[] = [];
    const sender = new FrameSender((frame) => wire.push(frame), { chunkBytes: 1024, window: 2 });
    const refused = sender.send({ type: 'fit_res', params: payload(4096) });
    sender.acknowledge({ f: 'a', id: 0, n: -1 });
    await expect(refused).rejects.toMatchObject({ code: 'TRANSFER_INCOMPLETE' });
    const cut = sender.send({ type: 'fit_res', params: payload(4096) });
    sender.close(new FedlearnError('TRANSPORT_CLOSED', 'gone'));
    await expect(cut).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
    await expect(sender.send({ type: 'heartbeat' })).rejects.toMatchObject({ code: 'TRANSPORT_CLOSED' });
  });
});
