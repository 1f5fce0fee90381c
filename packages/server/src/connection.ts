import {
  type ClientMessage,
  type Clock,
  checkedAckFrame,
  describePeerMessage,
  echoable,
  echoableDetails,
  FedlearnError,
  FRAME_EVENT,
  FrameAssembler,
  FrameSender,
  isAckFrame,
  parseClientMessage,
  type ServerMessage,
  startFlowControl,
  type TransferSettings,
  toFedlearnError,
} from '@fedlearn/core';
import type { Logger } from 'pino';
import type { Socket } from 'socket.io';

export interface ConnectionOptions {
  maxPayloadBytes: number;
  /** Largest chunk accepted, and the chunk size used with clients that negotiate nothing. */
  chunkBytes: number;
  /** Most chunks a client may have in flight beyond the last ack (its offer may be smaller). */
  transferWindow: number;
  /** Admits a negotiated client's uploads against the coordinator's transfer memory budget. */
  admit: (size: number, grant: () => void) => () => void;
  /** Most bytes of unfinished transfers held before the client has said hello. */
  unidentifiedBufferBytes: number;
  transferTimeoutMs: number;
  clock: Clock;
  logger: Logger;
  onMessage: (connection: ClientConnection, message: ClientMessage) => void;
  /** A message from this client was refused before it could be routed (bad frame, too large, malformed). */
  onRefused: (connection: ClientConnection, error: FedlearnError) => void;
}

/**
 * One client's socket: frames in and out, validation of every inbound message, and typed
 * refusals sent back to this client only.
 */
export class ClientConnection {
  clientId: string | undefined;
  bytesIn = 0;
  bytesOut = 0;
  private readonly assembler: FrameAssembler;
  private readonly sender: FrameSender;

  constructor(
    readonly socket: Socket,
    private readonly options: ConnectionOptions,
  ) {
    this.assembler = new FrameAssembler({
      maxPayloadBytes: options.maxPayloadBytes,
      chunkBytes: options.chunkBytes,
      maxBufferedBytes: options.unidentifiedBufferBytes,
      transferTimeoutMs: options.transferTimeoutMs,
      clock: options.clock,
      onTransferExpired: (error) => {
        const { type, ...where } = describePeerMessage(error.details);
        this.refuse(error, type, where);
      },
    });
    this.sender = new FrameSender((frame) => socket.emit(FRAME_EVENT, frame), {
      chunkBytes: options.chunkBytes,
      window: 0,
    });
    socket.on(FRAME_EVENT, (frame: unknown) => this.receive(frame));
    socket.on('disconnect', () => {
      this.assembler.clear();
      this.sender.close(new FedlearnError('TRANSPORT_CLOSED', 'the client disconnected'));
    });
  }

  /**
   * Chooses the transfer settings for a client that offered them in its hello (the smaller chunk
   * and window of both sides): from now on its transfers are acknowledged, admitted against the
   * memory budget, and ours to it wait for its acks. Returns them for the welcome.
   */
  negotiate(offer: TransferSettings | undefined): TransferSettings | undefined {
    if (!offer) return undefined;
    const { sender, assembler } = this;
    const emit = (frame: unknown) => this.socket.emit(FRAME_EVENT, frame);
    const own = { chunkBytes: this.options.chunkBytes, window: this.options.transferWindow };
    return startFlowControl({ sender, assembler, emit }, offer, own, this.options.admit);
  }

  /** The client said hello: it may now send payloads as large as the limit allows. */
  identified(clientId: string): void {
    this.clientId = clientId;
    this.assembler.setMaxBufferedBytes(2 * this.options.maxPayloadBytes);
  }

  /** Bytes of unfinished transfers this connection holds. */
  get bufferedBytes(): number {
    return this.assembler.bufferedBytes;
  }

  get id(): string {
    return this.socket.id;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  private receive(frame: unknown): void {
    let message: ClientMessage;
    try {
      if (isAckFrame(frame)) return this.sender.acknowledge(checkedAckFrame(frame));
      const raw = this.assembler.accept(frame);
      if (raw === undefined) return;
      message = parseClientMessage(raw);
      if ('params' in message) this.bytesIn += message.params.length;
    } catch (error) {
      const e = toFedlearnError(error, 'MALFORMED_MESSAGE');
      const { type, ...where } = describePeerMessage(e.details);
      this.refuse(e, type, where);
      this.options.onRefused(this, e);
      return;
    }
    // Nothing a peer sends may throw past this point into socket.io (it would close every
    // handler's connection, or worse, the process).
    try {
      this.options.onMessage(this, message);
    } catch (error) {
      this.options.logger.error({ err: error, clientId: this.clientId }, 'message handler failed');
      this.refuse(
        new FedlearnError('INTERNAL', 'the coordinator could not handle this message'),
        message.type,
      );
    }
  }

  /**
   * Sends a message, paced by the client's acks when it negotiated them; returns the binary payload
   * size. A transfer cut short by a disconnect ends there: the round learns of it from the disconnect.
   */
  send(message: ServerMessage): number {
    this.sender.send(message).catch((error: unknown) => {
      this.options.logger.debug(
        { clientId: this.clientId, code: toFedlearnError(error).code },
        `transfer of ${message.type} did not finish`,
      );
    });
    const size = 'params' in message ? message.params.length : 0;
    this.bytesOut += size;
    return size;
  }

  /** Sends a typed error to this client and logs it. A fatal one closes the connection. */
  refuse(
    error: FedlearnError,
    inReplyTo?: string,
    where: { jobId?: string; round?: number } = {},
    fatal = false,
  ): void {
    const replyTo = echoable(inReplyTo);
    const about = describePeerMessage({ type: replyTo, ...where });
    this.options.logger.warn(
      { clientId: this.clientId, socket: this.id, code: error.code, ...about },
      `refused: ${error.message}`,
    );
    this.socket.emit(FRAME_EVENT, {
      f: 'm',
      msg: {
        type: 'error',
        error: {
          code: error.code,
          message: error.message.slice(0, 4096),
          details: echoableDetails(error.details),
        },
        inReplyTo: typeof replyTo === 'string' ? about : undefined,
        fatal,
      },
    });
    if (fatal) setImmediate(() => this.socket.disconnect(true));
  }

  disconnect(): void {
    this.socket.disconnect(true);
  }
}

export function refusal(
  code: FedlearnError['code'],
  message: string,
  details?: Record<string, unknown>,
): FedlearnError {
  return new FedlearnError(code, message, details ? { details } : {});
}

/** Refuses a result for a round that is not accepting it (over, not started, or another job). */
export function refuseStale(
  connection: ClientConnection,
  type: string,
  where: { jobId: string; round: number },
  current: number | undefined,
): void {
  connection.refuse(
    new FedlearnError(
      'STALE_ROUND',
      `round ${where.round} of job ${where.jobId} is not accepting results (current round: ${current ?? 'none'})`,
      {
        details: { currentRound: current ?? null },
      },
    ),
    type,
    where,
  );
}
