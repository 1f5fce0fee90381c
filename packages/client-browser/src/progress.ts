import { type ConnectionEvent, decodeSecAggMessage } from '@fedlearn/core';

/** What the page is doing, for a person watching it. */
export type ClientState =
  | 'idle'
  | 'connecting'
  | 'waiting'
  | 'training'
  | 'uploading'
  | 'secagg:advertise-keys'
  | 'secagg:share-keys'
  | 'secagg:masked-input'
  | 'secagg:unmask'
  | 'paused'
  | 'disconnected'
  | 'stopped';

/** Everything a `BrowserClient` reports: the connection's events, state changes and training progress. */
export type BrowserClientEvent =
  | ConnectionEvent
  | { type: 'state'; state: ClientState; round?: number }
  | { type: 'epoch'; round: number | undefined; epoch: number; epochs: number; loss: number };

const STAGE_OF_MESSAGE: Record<string, ClientState> = {
  'secagg/advertise-keys': 'secagg:advertise-keys',
  'secagg/share-keys': 'secagg:share-keys',
  'secagg/masked-input': 'secagg:masked-input',
};

/**
 * Follows the connection's events and says which state the client is in. A secure round shows
 * each SecAgg+ stage the client has answered; it is over for this client once it sent its
 * unmasking shares.
 */
export class ProgressTracker {
  state: ClientState = 'idle';
  round: number | undefined;

  constructor(private readonly report: (event: BrowserClientEvent) => void) {}

  set(state: ClientState, round = this.round): void {
    this.round = round;
    if (state === this.state) return;
    this.state = state;
    this.report({ type: 'state', state, ...(round === undefined ? {} : { round }) });
  }

  epoch(progress: { epoch: number; epochs: number; loss: number }): void {
    this.report({ type: 'epoch', round: this.round, ...progress });
  }

  observe(event: ConnectionEvent): void {
    switch (event.type) {
      case 'connected':
        return this.set('connecting');
      case 'welcome':
        return this.set('waiting');
      case 'fit_start':
        return this.set('training', event.round);
      case 'fit_done':
        // A secure round goes on through its stages after training.
        if (event.bytesUp > 0) this.set('waiting');
        return;
      case 'disconnected':
        if (this.state !== 'paused' && this.state !== 'stopped') this.set('disconnected');
        return;
      case 'message_sent':
        return this.onSent(event.message);
      default:
        return;
    }
  }

  private onSent(message: Extract<ConnectionEvent, { type: 'message_sent' }>['message']): void {
    if (message.type === 'fit_res') return this.set('uploading', message.round);
    if (message.type !== 'secagg') return;
    const type = (decodeSecAggMessage(message.params) as { type?: string }).type ?? '';
    if (type === 'secagg/unmask') return this.set('waiting');
    const stage = STAGE_OF_MESSAGE[type];
    if (stage) this.set(stage, message.round);
  }
}
