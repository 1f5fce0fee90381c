export {
  type BackendRegistry,
  type ConnectionEvent,
  createSecAggClient,
  cryptoRandomBytes,
  decodeParams,
  decodeSecAggMessage,
  encodeSecAggMessage,
  FedlearnError,
  flattenParams,
  LayersTrainer,
  type ModelParams,
  unflattenParams,
} from '@fedlearn/core';
export { BROWSER_BACKEND_ORDER, selectBrowserBackend } from './backend.js';
export { BrowserClient, type BrowserClientOptions, type BrowserTraining } from './browser-client.js';
export {
  type BrowserData,
  type IndexedDbSource,
  type LabelledArrays,
  loadBrowserData,
  readIndexedDb,
  tensorsFromArrays,
} from './data.js';
export { followPageLifecycle, type PageLifecycleTarget } from './page-lifecycle.js';
export { type BrowserClientEvent, type ClientState, ProgressTracker } from './progress.js';
