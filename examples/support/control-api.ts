/** The bits of the coordinator's control API (`/v1`) the example tests drive. */
export interface JobView {
  id: string;
  status: string;
  rounds: {
    round: number;
    status: string;
    completed: number;
    sampled: number;
    accuracy?: number;
    model?: { name: string; version: number; aliases: string[] };
  }[];
  error?: { code: string; message: string };
}

export class ControlApi {
  constructor(
    readonly url: string,
    private readonly token: string,
  ) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${this.token}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const json = (await response.json()) as T;
    if (!response.ok) throw new Error(`${method} ${path}: HTTP ${response.status} ${JSON.stringify(json)}`);
    return json;
  }

  async clients(): Promise<number> {
    const status = await this.request<{ clients: unknown[] }>('GET', '/v1/status');
    return status.clients.length;
  }

  /** Resolves once `n` clients are connected (polled: the API has no push for it). */
  async waitForClients(n: number, pollMs = 100): Promise<void> {
    while ((await this.clients()) < n) await new Promise((r) => setTimeout(r, pollMs));
  }

  /** Polls the job until it is final. */
  async waitForJob(id: string, pollMs = 200): Promise<JobView> {
    for (;;) {
      const job = await this.request<JobView>('GET', `/v1/jobs/${id}`);
      if (['completed', 'failed', 'cancelled'].includes(job.status)) return job;
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }
}
