import { z } from 'zod';
import { metricsFromTags, TAGS } from '../registry.js';
import type { AliasMove, ModelVersionInfo } from '../types.js';
import { type MlflowModelVersion, tagsToRecord } from './schemas.js';

const moveSchema = z.object({
  at: z.string(),
  model: z.string(),
  alias: z.string(),
  version: z.number().nullable(),
  previous: z.number().nullable(),
  actor: z.string(),
  reason: z.string(),
});

export function iso(ms: number | undefined): string {
  return new Date(ms ?? 0).toISOString();
}

/** An MLflow model version as fedlearn reports it (metrics, round and job from its tags). */
export function toVersionInfo(v: MlflowModelVersion): ModelVersionInfo {
  const tags = tagsToRecord(v.tags);
  const round = tags[TAGS.round];
  return {
    name: v.name,
    version: v.version,
    createdAt: iso(v.creation_timestamp),
    aliases: [...v.aliases].sort(),
    source: v.source,
    ...(v.run_id ? { runId: v.run_id } : {}),
    metrics: metricsFromTags(tags),
    ...(round !== undefined && Number.isInteger(Number(round)) ? { round: Number(round) } : {}),
    ...(tags[TAGS.jobId] ? { jobId: tags[TAGS.jobId] } : {}),
    tags,
  };
}

/** The alias moves recorded as `fedlearn.audit.*` registered-model tags, oldest first. */
export function auditMovesFromTags(tags: readonly { key: string; value: string }[]): AliasMove[] {
  const moves: AliasMove[] = [];
  for (const tag of tags) {
    if (!tag.key.startsWith(TAGS.auditPrefix)) continue;
    try {
      const parsed = moveSchema.safeParse(JSON.parse(tag.value));
      if (parsed.success) moves.push(parsed.data);
    } catch {
      // a foreign tag under our prefix: not ours to interpret
    }
  }
  return moves.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
