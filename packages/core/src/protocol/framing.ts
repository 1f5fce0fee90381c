import type { Clock, TimerHandle } from '../clock.js';
import { FedlearnError } from '../errors.js';
import { createSha256, type Sha256State, sha256Of, toHex } from '../hash.js';
import { assertBoundedShape, describePeerMessage } from './peer-values.js';

/**
 * Messages travel as frames so that large binary payloads (model weights) are chunked and a
 * receiver can refuse an oversized payload from its announced size, before buffering it.
 *
 * A message with a binary `params` field becomes one head frame (the message without `params`,
 * plus the payload's size, chunk size, chunk count and SHA-256) followed by its chunks, in order,
 * on the same socket. Between peers that negotiated flow control in the hello/welcome, the
 * receiver answers with ack frames (see `FrameSender`).
 */
export type Frame = HeadFrame | ChunkFrame | AckFrame;

export interface BinaryDescriptor {
  id: number;
  size: number;
  chunks: number;
  /** Chunk size of this transfer (absent from older peers: the receiver's configured size). */
  cb?: number;
  /** SHA-256 of the whole payload, hex; checked before the message is used. */
  sha?: string;
}

export interface HeadFrame {
  f: 'm';
  msg: Record<string, unknown>;
  bin?: BinaryDescriptor;
}

export interface ChunkFrame {
  f: 'c';
  id: number;
  i: number;
  data: Uint8Array;
}

/**
 * The receiver's answer to a transfer: `n` chunks taken so far (0: admitted, send), or -1: refused
 * or dropped, stop sending. A sender keeps at most its window of chunks beyond the last `n`.
 */
export interface AckFrame {
  f: 'a';
  id: number;
  n: number;
}

export const DEFAULT_CHUNK_BYTES = 512 * 1024;
/** No transfer may use smaller chunks: each chunk costs a frame, and the count must stay bounded. */
export const MIN_CHUNK_BYTES = 1024;

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
  const head = headFrame(rest, params, transferId, chunkBytes);
  const frames: Frame[] = [head];
  for (let i = 0; i < head.bin!.chunks; i++) frames.push(chunkFrame(params, transferId, i, chunkBytes));
  return frames;
}

export function headFrame(
  msg: Record<string, unknown>,
  params: Uint8Array,
  id: number,
  chunkBytes: number,
): HeadFrame {
  const chunks = Math.max(1, Math.ceil(params.length / chunkBytes));
  return {
    f: 'm',
    msg,
    bin: { id, size: params.length, chunks, cb: chunkBytes, sha: payloadSha256(params) },
  };
}

/**
 * The coordinator sends one global model to every client: hash each payload once, not per client.
 * A payload is never changed once handed to a sender (each message encodes a fresh one).
 */
const payloadHashes = new WeakMap<Uint8Array, string>();

function payloadSha256(params: Uint8Array): string {
  let sha = payloadHashes.get(params);
  if (sha === undefined) {
    sha = toHex(sha256Of(params));
    payloadHashes.set(params, sha);
  }
  return sha;
}

export function chunkFrame(params: Uint8Array, id: number, i: number, chunkBytes: number): ChunkFrame {
  return { f: 'c', id, i, data: params.subarray(i * chunkBytes, (i + 1) * chunkBytes) };
}

export function isAckFrame(raw: unknown): raw is AckFrame {
  return typeof raw === 'object' && raw !== null && (raw as { f?: unknown }).f === 'a';
}

/**
 * An ack frame checked before it is used: a malformed one is refused (MALFORMED_MESSAGE), while a
 * well-formed ack for a transfer that has already ended is normal (it crossed the last chunk).
 */
export function checkedAckFrame(frame: AckFrame): AckFrame {
  const { id, n } = frame as { id?: unknown; n?: unknown };
  if (!Number.isSafeInteger(id) || !Number.isSafeInteger(n) || Object.keys(frame).length !== 3) {
    throw new FedlearnError('MALFORMED_MESSAGE', 'an ack frame is { f: "a", id, n } with integer id and n');
  }
  return frame;
}

export interface FrameAssemblerOptions {
  /** Largest binary payload accepted, in bytes. */
  maxPayloadBytes: number;
  /** Largest chunk accepted, and the chunk size of a head that does not say (older peers). */
  chunkBytes?: number;
  /** Transfers that may be in flight at once from one peer. */
  maxPending?: number;
  /**
   * Most bytes of unfinished transfers held at once for this peer (default: `maxPayloadBytes`).
   * Can be changed later with `setMaxBufferedBytes`, e.g. raised once the peer has identified itself.
   */
  maxBufferedBytes?: number;
  /** With `clock`: an unfinished transfer is dropped this long after its head frame. */
  transferTimeoutMs?: number;
  clock?: Clock;
  /** Called when a transfer is dropped for taking too long, so the peer can be told. */
  onTransferExpired?: (error: FedlearnError) => void;
}

/**
 * Flow control with a peer that negotiated it: every head is admitted (perhaps later, when memory
 * is free) with an ack of 0, every chunk taken is acked, and a chunk beyond the window is refused.
 */
export interface FlowControl {
  window: number;
  sendAck: (ack: AckFrame) => void;
  /** Calls `grant` once the transfer may start; returns what frees its share (default: at once). */
  admit?: (size: number, grant: () => void) => () => void;
}

interface Pending {
  msg: Record<string, unknown>;
  size: number;
  chunks: number;
  chunkBytes: number;
  /** Chunks as they arrived: memory grows with what was sent, not with what was announced. */
  parts: Uint8Array[];
  timer: TimerHandle | undefined;
  sha: string | undefined;
  hash: Sha256State | undefined;
  /** Chunks the peer may have sent so far (flow control): the last ack plus the window. */
  allowed: number;
  release: (() => void) | undefined;
}

/** Reassembles frames from one peer into whole messages. Throws typed errors for bad frames. */
export class FrameAssembler {
  private readonly pending = new Map<number, Pending>();
  /** Refused transfers whose remaining chunks are ignored: id → index of their last chunk. */
  private readonly discarded = new Map<number, number>();
  private readonly chunkBytes: number;
  private readonly maxPending: number;
  private maxBufferedBytes: number;
  private buffered = 0;
  private flow: FlowControl | undefined;

  constructor(private readonly options: FrameAssemblerOptions) {
    this.chunkBytes = options.chunkBytes ?? DEFAULT_CHUNK_BYTES;
    this.maxPending = options.maxPending ?? 4;
    this.maxBufferedBytes = options.maxBufferedBytes ?? options.maxPayloadBytes;
  }

  /** Bytes of unfinished transfers held right now. */
  get bufferedBytes(): number {
    return this.buffered;
  }

  /** Refused transfers whose late chunks are still being ignored. */
  get discardedTransfers(): number {
    return this.discarded.size;
  }

  setMaxBufferedBytes(bytes: number): void {
    this.maxBufferedBytes = bytes;
  }

  /** From now on, acknowledge and admit this peer's transfers (it negotiated flow control). */
  setFlowControl(flow: FlowControl | undefined): void {
    this.flow = flow;
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

  private chunkSizeOf(cb: unknown, details: Record<string, unknown>): number {
    if (cb === undefined) return this.chunkBytes;
    const min = Math.min(MIN_CHUNK_BYTES, this.chunkBytes);
    if (!isUint(cb) || cb < min || cb > this.chunkBytes) {
      throw new FedlearnError(
        'MALFORMED_MESSAGE',
        `chunk size must be an integer from ${min} to ${this.chunkBytes} bytes`,
        { details },
      );
    }
    return cb;
  }

  private acceptHead(frame: HeadFrame): Record<string, unknown> | undefined {
    if (typeof frame.msg !== 'object' || frame.msg === null || Array.isArray(frame.msg)) {
      throw new FedlearnError('MALFORMED_MESSAGE', 'head frame carries no message object');
    }
    assertBoundedShape(frame.msg);
    if (frame.bin === undefined) return frame.msg;
    const details = describePeerMessage(frame.msg);
    const bin: unknown = frame.bin;
    const { id, size, chunks, cb, sha } = (typeof bin === 'object' && bin !== null ? bin : {}) as Record<
      string,
      unknown
    >;
    if (
      !isUint(id) ||
      !isUint(size) ||
      !isUint(chunks) ||
      chunks < 1 ||
      (sha !== undefined && (typeof sha !== 'string' || !/^[0-9a-f]{64}$/.test(sha)))
    ) {
      throw new FedlearnError('MALFORMED_MESSAGE', 'head frame has an invalid binary descriptor', {
        details,
      });
    }
    const chunkBytes = this.chunkSizeOf(cb, details);
    if (chunks !== Math.max(1, Math.ceil(size / chunkBytes))) {
      throw new FedlearnError('MALFORMED_MESSAGE', `payload of ${size} bytes cannot have ${chunks} chunks`, {
        details,
      });
    }
    const limit = Math.min(this.options.maxPayloadBytes, this.maxBufferedBytes);
    if (size > limit) {
      this.discard(id, chunks);
      this.flow?.sendAck({ f: 'a', id, n: -1 });
      throw new FedlearnError(
        'PAYLOAD_TOO_LARGE',
        `payload of ${size} bytes is over the limit of ${limit} bytes`,
        {
          details: { ...details, size, limit },
        },
      );
    }
    if (this.pending.has(id) || this.pending.size >= this.maxPending) {
      throw new FedlearnError('MALFORMED_MESSAGE', 'too many transfers in flight, or a reused transfer id', {
        details,
      });
    }
    const pending: Pending = {
      msg: frame.msg,
      size,
      chunks,
      chunkBytes,
      parts: [],
      timer: undefined,
      sha,
      hash: sha === undefined ? undefined : createSha256(),
      allowed: Number.POSITIVE_INFINITY,
      release: undefined,
    };
    this.pending.set(id, pending);
    const flow = this.flow;
    if (!flow) {
      this.startTimer(id, pending);
      return undefined;
    }
    pending.allowed = 0;
    // The timeout runs from admission: waiting for memory to free up is not the sender's delay.
    const grant = () => {
      if (this.pending.get(id) !== pending) return;
      this.startTimer(id, pending);
      pending.allowed = flow.window;
      flow.sendAck({ f: 'a', id, n: 0 });
    };
    if (flow.admit) pending.release = flow.admit(size, grant);
    else grant();
    return undefined;
  }

  private acceptChunk(frame: ChunkFrame): Record<string, unknown> | undefined {
    const last = this.discarded.get(frame.id);
    if (last !== undefined) {
      if (frame.i === last) this.forgetDiscarded(frame.id);
      return undefined;
    }
    const pending = this.pending.get(frame.id);
    if (!pending) throw new FedlearnError('MALFORMED_MESSAGE', 'chunk for an unknown transfer');
    const details = describePeerMessage(pending.msg);
    const data = toUint8Array(frame.data);
    const index = pending.parts.length;
    const expectedLength = Math.min(pending.chunkBytes, pending.size - index * pending.chunkBytes);
    if (frame.i !== index || !data || data.length !== expectedLength) {
      this.drop(frame.id, pending);
      throw new FedlearnError('MALFORMED_MESSAGE', 'chunk out of order or of the wrong length', { details });
    }
    if (index >= pending.allowed) {
      this.drop(frame.id, pending);
      if (frame.i < pending.chunks - 1) this.discard(frame.id, pending.chunks);
      throw new FedlearnError('MALFORMED_MESSAGE', 'chunk sent beyond the acknowledged window', { details });
    }
    if (this.buffered + data.length > this.maxBufferedBytes) {
      this.drop(frame.id, pending);
      if (frame.i < pending.chunks - 1) this.discard(frame.id, pending.chunks);
      throw new FedlearnError(
        'PAYLOAD_TOO_LARGE',
        `unfinished transfers would hold over ${this.maxBufferedBytes} bytes for this peer`,
        { details: { ...details, limit: this.maxBufferedBytes } },
      );
    }
    // A plain Uint8Array copy: a Node Buffer's slice() is a view, and the socket may reuse its memory.
    pending.parts.push(new Uint8Array(data));
    pending.hash?.update(data);
    this.buffered += data.length;
    if (this.flow) {
      pending.allowed = pending.parts.length + this.flow.window;
      this.flow.sendAck({ f: 'a', id: frame.id, n: pending.parts.length });
    }
    if (pending.parts.length < pending.chunks) return undefined;
    this.drop(frame.id, pending, false);
    if (pending.hash && toHex(new Uint8Array(pending.hash.digest())) !== pending.sha) {
      throw new FedlearnError(
        'TRANSFER_CHECKSUM_MISMATCH',
        `the ${pending.size} bytes received do not match the transfer's SHA-256`,
        { details },
      );
    }
    return { ...pending.msg, params: concat(pending.parts, pending.size) };
  }

  private startTimer(id: number, pending: Pending): void {
    const { clock, transferTimeoutMs } = this.options;
    if (clock && transferTimeoutMs !== undefined) {
      pending.timer = clock.setTimeout(() => this.expire(id), transferTimeoutMs);
    }
  }

  /** Stops ignoring a refused transfer's chunks: its last one arrived, or it expired. */
  private forgetDiscarded(id: number): void {
    this.discarded.delete(id);
  }

  /** Remembers a refused transfer so its chunks are ignored; never more than a few at once. */
  private discard(id: number, chunks: number): void {
    this.discarded.set(id, chunks - 1);
    if (this.discarded.size > 2 * this.maxPending) {
      this.forgetDiscarded(this.discarded.keys().next().value as number);
    }
  }

  /** Forgets a transfer; unless it completed, tells a flow-controlled sender to stop. */
  private drop(id: number, pending: Pending, refused = true): void {
    this.pending.delete(id);
    for (const part of pending.parts) this.buffered -= part.length;
    if (pending.timer) this.options.clock?.clearTimeout(pending.timer);
    pending.release?.();
    if (refused && pending.parts.length < pending.chunks) this.flow?.sendAck({ f: 'a', id, n: -1 });
  }

  private expire(id: number): void {
    const pending = this.pending.get(id);
    if (!pending) return;
    this.drop(id, pending);
    this.discard(id, pending.chunks);
    this.options.onTransferExpired?.(
      new FedlearnError(
        'TRANSFER_INCOMPLETE',
        `transfer ${id} was not finished within ${this.options.transferTimeoutMs} ms and was dropped`,
        { details: describePeerMessage(pending.msg) },
      ),
    );
  }

  /** Drops every unfinished transfer and stops its timer (the peer is gone). */
  clear(): void {
    for (const [id, pending] of this.pending) this.drop(id, pending, false);
    this.discarded.clear();
  }
}

function concat(parts: Uint8Array[], size: number): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const whole = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    whole.set(part, offset);
    offset += part.length;
  }
  return whole;
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
