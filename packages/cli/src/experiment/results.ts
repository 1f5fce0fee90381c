import type { ExperimentConfig } from './grid.js';

/** What every configuration of one report shares. */
export interface ExperimentSetup {
  dataset: 'mnist';
  model: string;
  clients: number;
  rounds: number;
  localEpochs: number;
  batchSize: number;
  learningRate: number;
  fraction: number;
  backend: string;
}

export interface RunRound {
  round: number;
  accuracy: number | null;
  loss: number | null;
  epsilon: number | null;
}

export interface ExperimentRun {
  id: string;
  config: ExperimentConfig;
  status: string;
  accuracy: number | null;
  loss: number | null;
  /** ε spent at the end (private runs). */
  epsilon: number | null;
  delta: number | null;
  roundsRun: number;
  stopped?: string;
  rounds: RunRound[];
  seconds: number;
  error?: string;
}

export interface Baseline {
  accuracy: number;
  loss: number;
  seconds: number;
  epochs: number;
}

/** The report's JSON: its setup, the centralised baseline per partition and seed, every run. */
export interface ExperimentResults {
  setup: ExperimentSetup;
  /** Keyed by `partition | seed`. */
  baselines: Record<string, Baseline>;
  runs: ExperimentRun[];
  startedAt: string;
  updatedAt: string;
  loadAverage?: number[];
}

export function baselineKey(partition: string, seed: number): string {
  return `${partition} | seed ${seed}`;
}

/** True when two setups ran the same experiment (so a report folder can be resumed). */
export function sameSetup(a: ExperimentSetup, b: ExperimentSetup): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
