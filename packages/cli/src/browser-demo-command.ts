import type { PartitionScheme } from '@fedlearn/core';
import type { Coordinator } from '@fedlearn/server';
import { BrowserDemo } from './browser-demo.js';
import type { CommandIo } from './commands/io.js';
import { buildMnistMlp } from './mnist-model.js';

/** `fedlearn demo --browser`: the page for the demo's MNIST model and partitions. */
export function browserDemoFor(config: {
  clients: number;
  scheme: PartitionScheme;
  seed: number;
  clientToken: string;
}): BrowserDemo {
  const model = buildMnistMlp(config.seed);
  const modelTopology = model.toJSON(null, false) as unknown as Record<string, unknown>;
  model.dispose();
  return new BrowserDemo({
    nodeClients: config.clients,
    scheme: config.scheme,
    seed: config.seed,
    clientToken: config.clientToken,
    modelTopology,
  });
}

export function announceBrowserDemo(browser: BrowserDemo, coordinator: Coordinator, io: CommandIo): void {
  browser.follow(coordinator);
  io.stdout(`browser demo: open ${browser.url(coordinator.url)}\n`);
}

/** Keeps the page up after the job, until Ctrl-C (SIGINT) or SIGTERM. */
export function untilInterrupted(io: CommandIo): Promise<void> {
  io.stdout('the job is over; the browser demo stays up until Ctrl-C\n');
  return new Promise((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
}
