/**
 * Child process of the crash test: writes rounds and enrollments in a loop to the store its
 * configuration (JSON, argv[2]) names, and prints `ack <kind> <n>` after each write resolved,
 * until it is killed.
 */
import { createCoordinatorStore } from '../../src/store/store-config.js';
import { crashResult } from './crash-result.js';

const store = await createCoordinatorStore(JSON.parse(String(process.argv[2])));
if (!(await store.getJob('job-1'))) await store.createJob({ id: 'job-1', spec: { rounds: 1_000_000 } });
process.stdout.write('ready\n');
for (;;) {
  const round = ((await store.getJob('job-1'))?.lastCompletedRound ?? 0) + 1;
  await store.startRound('job-1', round, ['client-a', 'client-b']);
  await store.completeRound('job-1', round, crashResult(round));
  process.stdout.write(`ack round ${round}\n`);
  await store.enrollClient({
    id: `client-${round}`,
    identityPublicKey: Buffer.alloc(32, round % 256).toString('base64'),
    secretHash: `hash-${round}`,
  });
  process.stdout.write(`ack client ${round}\n`);
}
