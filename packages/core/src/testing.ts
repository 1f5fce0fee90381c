/**
 * Test and benchmark helpers, published as `@fedlearn/core/testing` and kept out of the main
 * export: the simulation draws its inputs from a seeded 32-bit generator and must never run a
 * real round.
 */
export {
  SECAGG_CLIENT_STAGES,
  type SecAggClientStage,
  type SecAggMeasure,
  type SecAggSimulation,
  type SecAggSimulationOptions,
  simulateSecAggRound,
} from './secagg/simulate.js';
export { standInPattern, standInTrainer } from './session/stand-in-trainer.js';
