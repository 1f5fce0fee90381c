import { recommendNeighbourhood } from '@fedlearn/core';

/**
 * The demo's secure-aggregation settings. With dropouts it survives them with a larger
 * neighbourhood, k and t = ⌊k/2⌋ + 1 from `recommendNeighbourhood` (never a lower threshold: with
 * 2t ≤ k dropouts could split the survivors into separately unmaskable groups), and each round
 * waits until the clients that vanished in the last one are back, so it samples them all.
 */
export function demoSecAgg(
  config: { secagg: boolean; dropout: number; stageTimeoutMs: number; clients: number; fraction: number },
  quorum: number,
): { secagg: Record<string, unknown>; waitFor?: number } {
  if (!config.secagg) return { secagg: { enabled: false } };
  const sampled = Math.min(config.clients, Math.max(quorum, Math.round(config.fraction * config.clients)));
  const secagg = { enabled: true, clip: 1, bits: 16, stageTimeoutMs: config.stageTimeoutMs };
  if (config.dropout === 0 || sampled < 4) return { secagg };
  const { neighbours, threshold } = recommendNeighbourhood(sampled, { dropoutRate: config.dropout });
  return {
    secagg: { ...secagg, neighbours, threshold },
    waitFor: config.clients,
  };
}

/**
 * The fewest updates a demo round needs: half the sampled clients, at least 3 under secure
 * aggregation (a sum of two reveals each to the other). Under distributed DP every sampled client,
 * since each adds its noise share for a sum of them all (fewer would sum to less noise than the
 * accountant assumes).
 */
export function demoQuorum(config: {
  clients: number;
  fraction: number;
  secagg: boolean;
  dpMode: string;
}): number {
  const sampled = Math.max(1, Math.round(config.clients * config.fraction));
  if (config.dpMode === 'distributed') return Math.max(3, sampled);
  return Math.max(config.secagg ? 3 : 1, Math.ceil(config.clients * config.fraction * 0.5));
}
