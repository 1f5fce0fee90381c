// Entry of a keystream worker thread (`@fedlearn/core/keystream-worker`): runs the tasks a server's
// worker pool posts (see KeystreamTask).
import { parentPort } from 'node:worker_threads';
import { KEYSTREAM_WORKER_READY, type KeystreamTask, runKeystreamTask } from './secagg/keystream-task.js';

parentPort?.on('message', (task: KeystreamTask) => runKeystreamTask(task));
parentPort?.postMessage(KEYSTREAM_WORKER_READY);
