/**
 * Child process of the coordinator crash tests: a real coordinator on a given port, with the state
 * store and local registry the configuration (JSON, argv[2]) names. With `hold`, it prints
 * `held <point> <round>` when it reaches that point of that round and waits there forever, so the
 * test can SIGKILL it exactly there.
 */
import { createModelLifecycle, resolveLifecycleConfig } from '@fedlearn/registry';
import pino from 'pino';
import { Coordinator } from '../../src/coordinator.js';
import type { HoldPoint } from '../../src/events.js';
import { createCoordinatorStore, type StoreConfigInput } from '../../src/store/index.js';

interface ChildConfig {
  port: number;
  apiToken: string;
  clientToken: string;
  store: StoreConfigInput;
  checkpointDir: string;
  registryHome: string;
  hold?: { point: HoldPoint; round: number };
}

const config = JSON.parse(String(process.argv[2])) as ChildConfig;
const store = await createCoordinatorStore(config.store);
const lifecycle = createModelLifecycle(
  resolveLifecycleConfig({}, { cwd: config.registryHome, home: config.registryHome }),
);
await Coordinator.start({
  port: config.port,
  apiToken: config.apiToken,
  clientToken: config.clientToken,
  checkpointDir: config.checkpointDir,
  store,
  lifecycle,
  logger: pino({ level: 'warn' }, pino.destination(2)),
  hooks: {
    hold: (point, { round }) => {
      if (point !== config.hold?.point || round !== config.hold.round) return;
      process.stdout.write(`held ${point} ${round}\n`);
      return new Promise<void>(() => undefined);
    },
  },
});
process.stdout.write('listening\n');
