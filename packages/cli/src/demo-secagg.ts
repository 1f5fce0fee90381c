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
