/**
 * Node-only helpers, published as `@fedlearn/core/node` and kept out of the main export so the
 * main one stays browser-safe.
 */

export {
  KEYSTREAM_WORKER_READY,
  type KeystreamTask,
  runKeystreamTask,
} from './secagg/keystream-task.js';
export { nativeAddMask, nativeAddMasks, nativeKeystream } from './secagg/native-keystream.js';
