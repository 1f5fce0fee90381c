/**
 * Admits incoming transfers against one memory budget shared by every connection, so the bytes
 * the coordinator buffers for uploads stay within the budget however many clients upload at once.
 * A transfer waits (its sender holds back, having no ack) until the bytes are free; one larger
 * than the whole budget is admitted alone, so nothing waits forever. First come, first served.
 */
export class TransferAdmission {
  private inUse = 0;
  private admitted = 0;
  private readonly queue: { size: number; grant: () => void; cancelled: boolean }[] = [];

  constructor(readonly budgetBytes: number) {}

  /** Bytes reserved by admitted transfers right now. */
  get reservedBytes(): number {
    return this.inUse;
  }

  /** Transfers waiting for room. */
  get waiting(): number {
    return this.queue.filter((entry) => !entry.cancelled).length;
  }

  /** Calls `grant` when `size` bytes fit; returns the release, to call once the transfer ends either way. */
  admit(size: number, grant: () => void): () => void {
    const entry = { size, grant, cancelled: false };
    let granted = false;
    let released = false;
    entry.grant = () => {
      granted = true;
      this.inUse += size;
      this.admitted++;
      grant();
    };
    this.queue.push(entry);
    this.pump();
    return () => {
      if (released) return;
      released = true;
      if (!granted) {
        entry.cancelled = true;
        this.pump();
        return;
      }
      this.inUse -= size;
      this.admitted--;
      this.pump();
    };
  }

  private pump(): void {
    while (this.queue.length > 0) {
      const next = this.queue[0]!;
      if (next.cancelled) {
        this.queue.shift();
        continue;
      }
      if (this.admitted > 0 && this.inUse + next.size > this.budgetBytes) return;
      this.queue.shift();
      next.grant();
    }
  }
}
