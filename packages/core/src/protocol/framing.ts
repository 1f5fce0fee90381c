import { FedlearnError } from '../errors.js';

/**
 * Messages travel as frames so that large binary payloads (model weights) are chunked and a
 * receiver can refuse an oversized payload from its announced size, before buffering it.
 *
 * A message with a binary `params` field becomes one head frame (the message without `params`,
 * plus the payload's size and chunk count) followed by its chunks, in order, on the same socket.
 */
export type Frame = HeadFrame | ChunkFrame;

export interface HeadFrame {
  f: 'm';
  msg: Record<string, unknown>;
  bin?: { id: number; size: number; chunks: number };
}

export interface ChunkFrame {
  f: 'c';
  id: number;
  i: number;
  data: Uint8Array;
}

export const DEFAULT_CHUNK_BYTES = 512 * 1024;

/** The one socket.io event name that carries every fedlearn frame. */
export const FRAME_EVENT = 'fl';

/** Splits a message into frames. `transferId` must be unique among the sender's in-flight messages. */
export function toFrames(
  message: { type: string; params?: Uint8Array },
  transferId: number,
  chunkBytes: number = DEFAULT_CHUNK_BYTES,
): Frame[] {
  const { params, ...rest } = message;
  if (!params) return [{ f: 'm', msg: rest }];
  const chunks = Math.max(1, Math.ceil(params.length / chunkBytes));
  const frames: Frame[] = [{ f: 'm', msg: rest, bin: { id: transferId, size: params.length, chunks } }];
  for (let i = 0; i < chunks; i++) {
    frames.push({ f: 'c', id: transferId, i, data: params.subarray(i * chunkBytes, (i + 1) * chunkBytes) });
  }
  return frames;
}

export interface FrameAssemblerOptions {
  /** Largest binary payload accepted, in bytes. */
  maxPayloadBytes: number;
  chunkBytes?: number;
  /** Transfers that may be in flight at once from one peer. */
  maxPending?: number;
}

interface Pending {
  msg: Record<string, unknown>;
  size: number;
  chunks: number;
  received: number;
  buffer: Uint8Array;
}

/** Info about the message a frame belonged to, so a refusal can say what it refuses. */
function describe(msg: Record<string, unknown>): Record<string, unknown> {
  return { type: msg.type, jobId: msg.jobId, round: msg.round };
}

/** Reassembles frames from one peer into whole messages. Throws typed errors for bad frames. */
export class FrameAssembler {
  private readonly pending = new Map<number, Pending>();
  private readonly discarded = new Set<number>();
  private readonly chunkBytes: number;
  private readonly maxPending: number;

  constructor(private readonly options: FrameAssemblerOptions) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.maxPending = options.maxPending ?? 4;
  }

  /** Returns the complete message when `raw` was its last frame, else undefined. */
  accept(raw: unknown): Record<string, unknown> | undefined {
    if (typeof raw !== 'object' || raw === null) {
      throw new FedlearnError('MALFORMED_MESSAGE', 'frame is not an object');
    }
    const kind = (raw as { f?: unknown }).f;
    if (kind === 'm') return this.acceptHead(raw as HeadFrame);
    if (kind === 'c') return this.acceptChunk(raw as ChunkFrame);
    throw new FedlearnError('MALFORMED_MESSAGE', 'unknown frame kind');
  }

  private acceptHead(frame: HeadFrame): Record<string, unknown> | undefined {
    if (typeof frame.msg !== 'object' || frame.msg === null || Array.isArray(frame.msg)) {
      throw new FedlearnError('MALFORMED_MESSAGE', 'head frame carries no message object');
    }
    if (frame.bin === undefined) return frame.msg;
    const { id, size, chunks } = frame.bin;
    if (!isUint(id) || !isUint(size) || !isUint(chunks) || chunks < 1) {
      throw new FedlearnError('MALFORMED_MESSAGE', 'head frame has an invalid binary descriptor', {
        details: describe(frame.msg),
      });
    }
    if (size > this.options.maxPayloadBytes) {
      this.discarded.add(id);
      throw new FedlearnError(
        'PAYLOAD_TOO_LARGE',
        `payload of ${size} bytes is over the limit of ${this.options.maxPayloadBytes} bytes`,
        { details: { ...describe(frame.msg), size, limit: this.options.maxPayloadBytes } },
      );
    }
    if (chunks !== Math.max(1, Math.ceil(size / this.chunkBytes))) {
      throw new FedlearnError('MALFORMED_MESSAGE', `payload of ${size} bytes cannot have ${chunks} chunks`, {
        details: describe(frame.msg),
      });
    }
    if (this.pending.has(id) || this.pending.size >= this.maxPending) {
      throw new FedlearnError('MALFORMED_MESSAGE', 'too many transfers in flight, or a reused transfer id', {
        details: describe(frame.msg),
      });
    }
    this.pending.set(id, { msg: frame.msg, size, chunks, received: 0, buffer: new Uint8Array(size) });
    return undefined;
  }

  private acceptChunk(frame: ChunkFrame): Record<string, unknown> | undefined {
    if (this.discarded.has(frame.id)) return undefined;
    const pending = this.pending.get(frame.id);
    if (!pending) throw new FedlearnError('MALFORMED_MESSAGE', 'chunk for an unknown transfer');
    const data = toUint8Array(frame.data);
    const expectedLength = Math.min(this.chunkBytes, pending.size - frame.i * this.chunkBytes);
    if (frame.i !== pending.received || !data || data.length !== expectedLength) {
      this.pending.delete(frame.id);
      throw new FedlearnError('MALFORMED_MESSAGE', 'chunk out of order or of the wrong length', {
        details: describe(pending.msg),
      });
    }
    pending.buffer.set(data, frame.i * this.chunkBytes);
    pending.received++;
    if (pending.received < pending.chunks) return undefined;
    this.pending.delete(frame.id);
    return { ...pending.msg, params: pending.buffer };
  }

  /** Stops ignoring chunks of refused transfers once their senders are done (bounded memory). */
  forgetDiscarded(): void {
    this.discarded.clear();
  }
}

function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 0;
}

/** socket.io delivers binary as Buffer (Node), ArrayBuffer or a typed-array view (browsers). */
export function toUint8Array(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  return undefined;
}
