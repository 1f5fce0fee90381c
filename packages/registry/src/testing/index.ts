export {
  type MlflowStandIn,
  type StandInFault,
  type StandInOptions,
  startMlflowStandIn,
} from './mlflow-standin.js';
export { MlflowApiError, StandInState } from './mlflow-standin-state.js';
