import { FedlearnError } from '../errors.js';

/**
 * What a peer sends is never echoed back raw: a refusal may repeat only short strings and finite
 * numbers (an echoed object can be nested deep enough to overflow the encoder's stack, and an
 * echoed long string turns a small request into a large reply).
 */
export const MAX_ECHO_CHARS = 128;

/** Decoded messages are refused past this nesting depth (a model topology needs about ten). */
export const MAX_MESSAGE_DEPTH = 32;

/** Decoded messages are refused past this many objects, arrays and values in total. */
export const MAX_MESSAGE_NODES = 100_000;

/** `value` when it is safe to repeat to a peer or log: a short string or a finite number. */
export function echoable(value: unknown): string | number | undefined {
  if (typeof value === 'string') return value.length <= MAX_ECHO_CHARS ? value : undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? value : undefined;
  return undefined;
}

/** Where a peer's message says it belongs, keeping only what `echoable` allows. */
export function describePeerMessage(msg: Record<string, unknown>): {
  type?: string;
  jobId?: string;
  round?: number;
} {
  const type = echoable(msg.type);
  const jobId = echoable(msg.jobId);
  const round = echoable(msg.round);
  return {
    ...(typeof type === 'string' ? { type } : {}),
    ...(typeof jobId === 'string' ? { jobId } : {}),
    ...(typeof round === 'number' ? { round } : {}),
  };
}

/**
 * Error details safe to send to a peer: echoable scalars, booleans, null, and short lists of
 * those; anything else is dropped.
 */
export function echoableDetails(details: Record<string, unknown>): Record<string, unknown> {
  const safe: Record<string, unknown> = Object.create(null);
  for (const [key, value] of Object.entries(details)) {
    if (key.length > MAX_ECHO_CHARS) continue;
    if (value === null || typeof value === 'boolean') safe[key] = value;
    else if (Array.isArray(value) && value.length <= 64) {
      const items = value.map(echoable);
      if (items.every((item) => item !== undefined)) safe[key] = items;
    } else if (echoable(value) !== undefined) safe[key] = value;
  }
  return { ...safe };
}

/**
 * Throws `MALFORMED_MESSAGE` when `value` nests deeper than `maxDepth` or holds more than
 * `maxNodes` values. Walks iteratively, so the check itself cannot overflow the stack.
 */
export function assertBoundedShape(
  value: unknown,
  maxDepth: number = MAX_MESSAGE_DEPTH,
  maxNodes: number = MAX_MESSAGE_NODES,
): void {
  const stack: [unknown, number][] = [[value, 0]];
  let nodes = 0;
  while (stack.length > 0) {
    const [current, depth] = stack.pop()!;
    if (++nodes > maxNodes) {
      throw new FedlearnError('MALFORMED_MESSAGE', `message holds more than ${maxNodes} values`);
    }
    if (typeof current !== 'object' || current === null || ArrayBuffer.isView(current)) continue;
    if (current instanceof ArrayBuffer) continue;
    if (depth >= maxDepth) {
      throw new FedlearnError('MALFORMED_MESSAGE', `message nests deeper than ${maxDepth} levels`);
    }
    for (const inner of Object.values(current)) stack.push([inner, depth + 1]);
  }
}
