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
  /** The configured deadline of the later stages: a floor, raised by `history` and the stage's work. */
  stageTimeoutMs: number;
  /** How long the stages took in this job's earlier rounds; this round's times are added to it. */
  history?: StageHistory;
}

/**
 * The slowest answer each stage got in a job's earlier rounds (time from the stage's messages
 * going out to its last answer), scaled to the clients it waited for.
 */
export class StageHistory {
  private readonly perClientMs = new Map<SecAggStage, number>();
  private readonly slowestMs = new Map<SecAggStage, number>();

  record(stage: SecAggStage, ms: number, clients: number): void {
    this.slowestMs.set(stage, Math.max(this.slowestMs.get(stage) ?? 0, ms));
    this.perClientMs.set(stage, Math.max(this.perClientMs.get(stage) ?? 0, ms / Math.max(1, clients)));
  }

  /** The longest this stage took, for `clients` clients (clients may share machines, so time grows with them). */
  expectedMs(stage: SecAggStage, clients: number): number {
    return Math.max(this.slowestMs.get(stage) ?? 0, (this.perClientMs.get(stage) ?? 0) * clients);
  }
}

/** Margin over the slowest earlier answer: a stage that once took x gets 3x before it is cut. */
const HISTORY_MARGIN = 3;
// Conservative client costs (portable code on a slow device), only to size deadlines.
const SLOW_KEYSTREAM_BYTES_PER_MS = 25_000;
const SLOW_AGREEMENT_MS = 2;
const STAGE_BASE_MS = 1000;

/**
 * A stage's work for one client, in ms on a slow device: the masking stage expands k + 1 masks
 * of the whole vector, the key-sharing stage agrees and seals with k neighbours, the others are
 * a few signatures and shares.
 */
export function stageWorkMs(stage: SecAggStage, work: { neighbours: number; vectorLength: number }): number {
  const { neighbours: k, vectorLength } = work;
  if (stage === 'masked-input')
    return STAGE_BASE_MS + ((k + 2) * 4 * vectorLength) / SLOW_KEYSTREAM_BYTES_PER_MS;
  if (stage === 'share-keys') return STAGE_BASE_MS + 2 * k * SLOW_AGREEMENT_MS;
  return STAGE_BASE_MS + k * SLOW_AGREEMENT_MS;
}

/**
 * The deadline of a stage after the first: the configured one as a floor, raised to the work the
 * stage implies and to a margin over what the stage took in earlier rounds. Only silent clients
 * ever wait for it: a stage closes as soon as every client answered.
 */
export function stageDeadlineMs(
  stage: SecAggStage,
  options: {
    floorMs: number;
    clients: number;
    neighbours: number;
    vectorLength: number;
    history?: StageHistory;
  },
): number {
  const learned = HISTORY_MARGIN * (options.history?.expectedMs(stage, options.clients) ?? 0);
  return Math.ceil(Math.max(options.floorMs, stageWorkMs(stage, options), learned));
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
  /** When the current stage's messages went out, and when its latest answer came. */
  private stageStart = 0;
  private lastAnswer: number | undefined;
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
    this.lastAnswer = this.options.clock.now();
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
    this.recordStage();
    if (step.kind === 'done' || step.kind === 'aborted') return this.finish(step);
    this.clearTimer();
    this.awaiting = new Set();
    for (const { to, message } of step.messages) {
      if (this.options.send(to, message)) this.awaiting.add(to);
    }
    this.tallies.push({ stage: step.stage, expected: step.messages.length, answered: 0 });
    this.stageStart = this.options.clock.now();
    this.lastAnswer = undefined;
    const params = this.options.round.params;
    const timeout =
      step.stage === 'advertise-keys'
        ? this.options.firstStageTimeoutMs
        : stageDeadlineMs(step.stage, {
            floorMs: this.options.stageTimeoutMs,
            clients: step.messages.length,
            neighbours: params.neighbours,
            vectorLength: params.vectorLength,
            ...(this.options.history ? { history: this.options.history } : {}),
          });
    this.timer = this.options.clock.setTimeout(() => {
      this.timer = undefined;
      this.route(this.options.round.closeStage());
    }, timeout);
    if (this.awaiting.size === 0) this.route(this.options.round.closeStage());
  }

  /** Adds the stage that just closed to the history (the first stage's time is mostly training). */
  private recordStage(): void {
    const tally = this.tallies.at(-1);
    if (!tally || tally.stage === 'advertise-keys' || this.lastAnswer === undefined) return;
    this.options.history?.record(tally.stage, this.lastAnswer - this.stageStart, tally.expected);
    this.lastAnswer = undefined;
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
