import { FedlearnError } from '@fedlearn/core';
import { partitionOption } from '../options.js';
import { type DpSetting, dpOption, formatDp } from '../privacy-option.js';
import { strategyOption } from '../strategy-option.js';

/** One configuration of the grid. */
export interface ExperimentConfig {
  id: string;
  partition: string;
  /** As given on the command line, e.g. `fedavgm:serverMomentum=0.5`. */
  strategyText: string;
  strategy: Record<string, unknown>;
  secagg: boolean;
  dp: DpSetting;
  seed: number;
}

export interface GridInput {
  partitions: readonly string[];
  strategies: readonly string[];
  /** `off`, `on` or both. */
  secagg: readonly string[];
  dp: readonly string[];
  seeds: readonly number[];
}

/**
 * The cross product partitions × strategies × secure aggregation × DP × seeds, minus what cannot
 * run: distributed DP needs secure aggregation and central DP needs it off (a strategy the
 * coordinator refuses, e.g. Krum under secure aggregation, is recorded as a failed run).
 *
 * @throws FedlearnError `INVALID_CONFIG` for a malformed value, or a grid with no runnable configuration.
 */
export function expandGrid(input: GridInput): { configs: ExperimentConfig[]; skipped: string[] } {
  const configs: ExperimentConfig[] = [];
  const skipped: string[] = [];
  for (const partition of input.partitions) {
    partitionOption(partition);
    for (const strategyText of input.strategies) {
      const strategy = strategyOption(strategyText);
      for (const secaggText of input.secagg) {
        if (secaggText !== 'on' && secaggText !== 'off') {
          throw new FedlearnError(
            'INVALID_CONFIG',
            `--secagg is on or off, got "${secaggText.slice(0, 20)}"`,
          );
        }
        const secagg = secaggText === 'on';
        for (const dpText of input.dp) {
          const dp = dpOption(dpText);
          for (const seed of input.seeds) {
            const id = `${partition} | ${strategyText} | secagg ${secaggText} | dp ${formatDp(dp)} | seed ${seed}`;
            if ((dp.mode === 'distributed') !== secagg && dp.mode !== 'none') {
              skipped.push(`${id}: ${dp.mode} DP ${secagg ? 'is not for' : 'needs'} secure aggregation`);
              continue;
            }
            configs.push({ id, partition, strategyText, strategy, secagg, dp, seed });
          }
        }
      }
    }
  }
  if (configs.length === 0)
    throw new FedlearnError('INVALID_CONFIG', 'the grid has no runnable configuration');
  return { configs, skipped };
}
