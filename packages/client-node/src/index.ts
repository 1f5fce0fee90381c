export { type BackendPreference, selectBackend } from './backend.js';
export { type ClientEvent, FederatedClient, type FederatedClientOptions } from './federated-client.js';
export {
  evaluateModel,
  type LabelledData,
  readWeights,
  TfjsTrainer,
  type TfjsTrainerOptions,
} from './tfjs-trainer.js';
