import type { FedlearnError } from '../errors.js';
import { secaggError } from './errors.js';
import { agree, bytesEqual, commitSeed, deriveKey, pairBinding, publicKeyOf, type X25519 } from './keys.js';
import { applyMasks, type Keystream, type MaskJob, portableKeystream } from './prg.js';
import { type HeldShare, recoverSecret } from './recovery.js';
import { pairSign, type SecAggSession } from './session.js';

/** What the server has gathered by the end of the unmasking stage. */
export interface UnmaskingInputs {
  readonly session: SecAggSession;
  /** Sum mod 2^32 of the masked inputs of `survivors`. */
  readonly maskedSum: Uint32Array;
  readonly survivors: ReadonlySet<string>;
  /** Clients that shared keys but sent no masked input: their pairwise masks are in the sum. */
  readonly dropped: ReadonlySet<string>;
  readonly maskPublicKeys: ReadonlyMap<string, Uint8Array>;
  readonly seedCommitments: ReadonlyMap<string, Uint8Array>;
  readonly seedShares: ReadonlyMap<string, HeldShare[]>;
  readonly keyShares: ReadonlyMap<string, HeldShare[]>;
  readonly x25519?: X25519;
  /** Expands the masks; the portable ChaCha20 by default. */
  readonly keystream?: Keystream;
}

/**
 * Removes every mask from the aggregate: each survivor's self mask (from its rebuilt seed) and the
 * pairwise masks survivors shared with dropped clients (from the dropped clients' rebuilt masking
 * keys). Works on the aggregate only: no individual input is ever unmasked. Returns the sum in
 * Z_(2^b) and the shares found faulty on the way. Throws if any secret cannot be rebuilt.
 */
export function unmaskSum(inputs: UnmaskingInputs): { sum: Uint32Array; faults: FedlearnError[] } {
  const { session, survivors, dropped } = inputs;
  const t = session.params.threshold;
  const faults: FedlearnError[] = [];
  // Every secret is rebuilt and every seed derived first; the costly expansion then runs once, over
  // all masks together, so a keystream may split it across threads and chunks of the vector.
  const jobs: MaskJob[] = [];
  for (const owner of survivors) {
    const commitment = inputs.seedCommitments.get(owner) as Uint8Array;
    const recovered = recoverSecret(owner, 'self-mask seed', inputs.seedShares.get(owner) ?? [], t, (seed) =>
      bytesEqual(commitSeed(seed, session.context), commitment),
    );
    faults.push(...recovered.faults);
    jobs.push({ seed: deriveKey(recovered.secret, session.context, 'self-mask'), sign: -1 });
  }
  for (const owner of dropped) {
    const liveNeighbours = (session.neighbours.get(owner) ?? []).filter((id) => survivors.has(id));
    if (liveNeighbours.length === 0) continue;
    const publicKey = inputs.maskPublicKeys.get(owner) as Uint8Array;
    const recovered = recoverSecret(owner, 'masking key', inputs.keyShares.get(owner) ?? [], t, (key) =>
      bytesEqual(publicKeyOf(key), publicKey),
    );
    faults.push(...recovered.faults);
    for (const survivor of liveNeighbours) {
      const survivorKey = inputs.maskPublicKeys.get(survivor) as Uint8Array;
      const shared = agree(recovered.secret, survivorKey, inputs.x25519);
      if (shared === undefined)
        throw secaggError('SECAGG_BAD_KEY', `masking key of ${survivor} is invalid`, survivor);
      // Undo what the survivor added for this pair.
      const sign = pairSign(session, survivor, owner);
      const binding = pairBinding(
        { id: survivor, index: session.index.get(survivor) as number, publicKey: survivorKey },
        { id: owner, index: session.index.get(owner) as number, publicKey },
      );
      jobs.push({
        seed: deriveKey(shared, session.context, 'pairwise-mask', binding),
        sign: sign === 1 ? -1 : 1,
      });
    }
  }
  const sum = inputs.maskedSum.slice();
  applyMasks(inputs.keystream ?? portableKeystream, sum, jobs);
  const bits = session.params.ringBits;
  if (bits < 32) {
    const mask = 2 ** bits - 1;
    for (let i = 0; i < sum.length; i++) sum[i] = (sum[i] as number) & mask;
  }
  return { sum, faults };
}
