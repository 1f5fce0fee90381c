import { FedlearnError } from '../errors.js';

/** The fedlearn wire protocol version. A different major version cannot talk to this one. */
export const PROTOCOL_VERSION = '1.0.0';

const SEMVER = /^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;

export interface SemVer {
  major: number;
  minor: number;
  patch: number;
}

export function parseSemVer(version: string): SemVer {
  const match = SEMVER.exec(version);
  if (!match) {
    throw new FedlearnError(
      'MALFORMED_MESSAGE',
      `"${version}" is not a semantic version (major.minor.patch)`,
    );
  }
  return { major: Number(match[1]), minor: Number(match[2]), patch: Number(match[3]) };
}

/**
 * Throws `PROTOCOL_VERSION_MISMATCH` unless `peerVersion` has the same major version as ours.
 * Minor versions only add optional fields, so they interoperate.
 */
export function assertCompatibleProtocol(peerVersion: string, ourVersion: string = PROTOCOL_VERSION): void {
  const peer = parseSemVer(peerVersion);
  const ours = parseSemVer(ourVersion);
  if (peer.major !== ours.major) {
    throw new FedlearnError(
      'PROTOCOL_VERSION_MISMATCH',
      `peer speaks protocol ${peerVersion}, this side speaks ${ourVersion}; install a fedlearn release with protocol ${ours.major}.x on both sides`,
      { details: { peerVersion, ourVersion } },
    );
  }
}
