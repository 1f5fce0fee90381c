import { FedlearnError } from '../errors.js';
import {
  type AckFrame,
  chunkFrame,
  DEFAULT_CHUNK_BYTES,
  type FlowControl,
  type Frame,
  type FrameAssembler,
  headFrame,
} from './framing.js';

export interface TransferSettings {
  /** Bytes per chunk. */
  chunkBytes: number;
  /** Chunks sent ahead of the receiver's last ack; 0: no flow control (the peer does not ack). */
  window: number;
}

/**
 * Starts flow control on one link once the handshake agreed on it: both sides use the smaller chunk
 * and the smaller window of their two offers; the sender paces its transfers by the peer's acks and
 * the assembler acks (and, with `admit`, admits) the peer's. Returns the settings chosen.
 */
export function startFlowControl(
  link: { sender: FrameSender; assembler: FrameAssembler; emit: (frame: Frame) => void },
  offer: TransferSettings,
  own: TransferSettings,
  admit?: FlowControl['admit'],
): TransferSettings {
  const chosen = {
    chunkBytes: Math.min(offer.chunkBytes, own.chunkBytes),
    window: Math.min(offer.window, own.window),
  };
  link.sender.negotiated(chosen);
  link.assembler.setFlowControl({ window: chosen.window, sendAck: link.emit, ...(admit ? { admit } : {}) });
  return chosen;
}

interface Waiting {
  acked: number;
  wake: (() => void) | undefined;
  failed: FedlearnError | undefined;
}

/**
 * Sends messages as frames. With a window (negotiated in the hello/welcome), a binary payload waits
 * for the receiver to admit it (ack 0), then keeps at most `window` chunks unacknowledged, so
 * neither side's socket buffers ever hold more than a window of a large model, and a receiver
 * short of memory holds senders back by admitting their transfers later.
 */
export class FrameSender {
  private nextId = 0;
  private readonly waiting = new Map<number, Waiting>();
  private closedWith: FedlearnError | undefined;

  constructor(
    private readonly emit: (frame: Frame) => void,
    private settings: TransferSettings = { chunkBytes: DEFAULT_CHUNK_BYTES, window: 0 },
  ) {}

  get transfer(): TransferSettings {
    return this.settings;
  }

  /** Settings for transfers started from now on (after the handshake). */
  negotiated(settings: TransferSettings): void {
    this.settings = settings;
  }

  /** Resolves once the whole message is sent and, with flow control, acknowledged. */
  async send(message: { type: string; params?: Uint8Array }): Promise<void> {
    if (this.closedWith) throw this.closedWith;
    const { params, ...rest } = message;
    if (!params) {
      this.emit({ f: 'm', msg: rest });
      return;
    }
    const { chunkBytes, window } = this.settings;
    const id = this.nextId++;
    const head = headFrame(rest, params, id, chunkBytes);
    const chunks = head.bin!.chunks;
    if (window === 0) {
      this.emit(head);
      for (let i = 0; i < chunks; i++) this.emit(chunkFrame(params, id, i, chunkBytes));
      return;
    }
    const state: Waiting = { acked: -1, wake: undefined, failed: undefined };
    this.waiting.set(id, state);
    try {
      this.emit(head);
      for (let i = 0; i < chunks; i++) {
        while (state.acked < 0 || i >= state.acked + window) await this.next(state);
        this.emit(chunkFrame(params, id, i, chunkBytes));
      }
      while (state.acked < chunks) await this.next(state);
    } finally {
      this.waiting.delete(id);
    }
  }

  /** An ack frame from the receiver. Acks for unknown or finished transfers are ignored. */
  acknowledge(ack: AckFrame): void {
    const state = this.waiting.get(ack.id);
    if (!state || typeof ack.n !== 'number' || !Number.isInteger(ack.n)) return;
    if (ack.n < 0) {
      state.failed = new FedlearnError(
        'TRANSFER_INCOMPLETE',
        `the peer refused or dropped transfer ${ack.id}`,
      );
    } else if (ack.n > state.acked) {
      state.acked = ack.n;
    } else {
      return;
    }
    state.wake?.();
  }

  /** Fails every transfer in flight (the socket closed); later sends fail too unless reopened. */
  close(error: FedlearnError): void {
    this.closedWith = error;
    for (const state of this.waiting.values()) {
      state.failed = error;
      state.wake?.();
    }
  }

  /** A new connection: sends work again, with the settings its handshake chooses. */
  reopen(settings: TransferSettings): void {
    this.closedWith = undefined;
    this.settings = settings;
  }

  private next(state: Waiting): Promise<void> {
    if (state.failed) return Promise.reject(state.failed);
    return new Promise<void>((resolve, reject) => {
      state.wake = () => {
        state.wake = undefined;
        if (state.failed) reject(state.failed);
        else resolve();
      };
    });
  }
}
