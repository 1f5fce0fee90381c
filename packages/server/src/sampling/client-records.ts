/** What the coordinator has seen of one client across rounds and jobs. */
export interface ClientRecord {
  /** Rounds it was sampled for training. */
  sampled: number;
  /** Of those, rounds whose update it delivered in time. */
  completed: number;
  /** Rounds it failed, dropped out of, or missed the deadline of. */
  missed: number;
  /** Rounds closed at the quorum before its update came (neither a success nor its fault). */
  cut: number;
  /** Exponentially weighted mean of seconds from the weights being sent to its update arriving. */
  fitSeconds: number | undefined;
}

const SPEED_WEIGHT = 0.3;

/**
 * Per-client speed and reliability, kept by the coordinator for as long as it runs, so sampling can
 * prefer clients likely to answer, and operators can see who the stragglers are.
 */
export class ClientRecords {
  private readonly records = new Map<string, ClientRecord>();
  private readonly started = new Map<string, number>();

  get(clientId: string): ClientRecord | undefined {
    return this.records.get(clientId);
  }

  /** The weights went to `clientId` at `now` (ms). */
  sampled(clientId: string, now: number): void {
    this.record(clientId).sampled++;
    this.started.set(clientId, now);
  }

  completed(clientId: string, now: number): void {
    const record = this.record(clientId);
    record.completed++;
    const since = this.started.get(clientId);
    this.started.delete(clientId);
    if (since === undefined) return;
    const seconds = Math.max(0, (now - since) / 1000);
    record.fitSeconds =
      record.fitSeconds === undefined
        ? seconds
        : record.fitSeconds + SPEED_WEIGHT * (seconds - record.fitSeconds);
  }

  missed(clientId: string): void {
    this.record(clientId).missed++;
    this.started.delete(clientId);
  }

  cut(clientId: string): void {
    this.record(clientId).cut++;
    this.started.delete(clientId);
  }

  /**
   * The chance this client delivers, estimated with Laplace's rule (a new client scores 0.5): the
   * share of its rounds it completed, leaving out rounds closed before it could.
   */
  reliability(clientId: string): number {
    const record = this.records.get(clientId);
    if (!record) return 0.5;
    return (record.completed + 1) / (record.completed + record.missed + 2);
  }

  entries(): [string, ClientRecord][] {
    return [...this.records];
  }

  private record(clientId: string): ClientRecord {
    let record = this.records.get(clientId);
    if (!record) {
      record = { sampled: 0, completed: 0, missed: 0, cut: 0, fitSeconds: undefined };
      this.records.set(clientId, record);
    }
    return record;
  }
}
