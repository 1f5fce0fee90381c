import {
  type Clock,
  FedlearnError,
  type SecAggResult,
  type SecAggServerMessage,
  type SecAggServerRound,
  type SecAggServerStep,
  type SecAggStage,
  type TimerHandle,
} from '@fedlearn/core';

/** How many clients one stage waited for and how many answered it. */
export interface StageTally {
  stage: SecAggStage;
  expected: number;
  answered: number;
}

export type SecAggOutcome =
  | { kind: 'done'; result: SecAggResult }
  | { kind: 'aborted'; error: FedlearnError };

export interface SecAggStagesOptions {
  round: SecAggServerRound;
  clock: Clock;
  /** Sends one message; false when the client is not connected (it is then not waited for). */
  send: (to: string, message: SecAggServerMessage) => boolean;
  /** Deadline of the first stage, whose answers come only after local training. */
  firstStageTimeoutMs: number;
  stageTimeoutMs: number;
}

/**
 * Drives a SecAgg+ server round over time: sends each stage's messages, gives each stage a
 * deadline (then `closeStage()`), and closes a stage early once every client it waits for has
 * answered, left or been refused, so only silent clients cost a deadline.
 */
export class SecAggStages {
  readonly tallies: StageTally[] = [];
  /** Settles once with the round's end; never rejects. */
  readonly outcome: Promise<SecAggOutcome>;
  private awaiting = new Set<string>();
  private timer: TimerHandle | undefined;
  private finished = false;
  private resolve!: (outcome: SecAggOutcome) => void;

  constructor(private readonly options: SecAggStagesOptions) {
    this.outcome = new Promise((resolve) => {
      this.resolve = resolve;
    });
  }

  get stage(): SecAggStage {
    return this.options.round.currentStage;
  }

  start(): void {
    this.route(this.options.round.start());
  }

  /**
   * Feeds one decoded client message to the round. Rethrows the round's typed refusal (which
   * names the client); the client is then no longer waited for at this stage.
   */
  receive(clientId: string, message: unknown): void {
    let step: SecAggServerStep;
    try {
      step = this.options.round.handle(clientId, message);
    } catch (error) {
      this.absent(clientId);
      throw error;
    }
    this.awaiting.delete(clientId);
    const tally = this.tallies.at(-1);
    if (tally) tally.answered++;
    this.route(step);
  }

  /** The client left, failed, or was refused: do not wait for it. */
  absent(clientId: string): void {
    if (!this.awaiting.delete(clientId)) return;
    if (this.awaiting.size === 0 && !this.finished) this.route(this.options.round.closeStage());
  }

  /** Whether `clientId` is waited for at the current stage. */
  isAwaiting(clientId: string): boolean {
    return this.awaiting.has(clientId);
  }

  cancel(): void {
    this.finish({ kind: 'aborted', error: new FedlearnError('ROUND_ABORTED', 'the job was cancelled') });
  }

  private route(step: SecAggServerStep): void {
    if (this.finished) return;
    if (step.kind === 'pending') {
      if (this.awaiting.size === 0) this.route(this.options.round.closeStage());
      return;
    }
    if (step.kind === 'done' || step.kind === 'aborted') return this.finish(step);
    this.clearTimer();
    this.awaiting = new Set();
    for (const { to, message } of step.messages) {
      if (this.options.send(to, message)) this.awaiting.add(to);
    }
    this.tallies.push({ stage: step.stage, expected: step.messages.length, answered: 0 });
    const timeout =
      step.stage === 'advertise-keys' ? this.options.firstStageTimeoutMs : this.options.stageTimeoutMs;
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.route(this.options.round.closeStage());
    }, timeout);
    if (this.awaiting.size === 0) this.route(this.options.round.closeStage());
  }

  private finish(outcome: SecAggOutcome): void {
    if (this.finished) return;
    this.finished = true;
    this.clearTimer();
    this.awaiting.clear();
    this.resolve(outcome);
  }

  private clearTimer(): void {
    if (this.timer) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
