import { parseArgs } from 'node:util';
import { cryptoRandomBytes, FedlearnError, generateIdentity, isErrorCode } from '@fedlearn/core';
import { saveEnrollment } from '../identity-files.js';
import { tokenFromEnv } from '../options.js';
import type { CommandIo } from './io.js';

export const ENROLL_HELP = `fedlearn enroll — enroll a client with a coordinator that requires enrollment

Usage: FEDLEARN_API_TOKEN=... fedlearn enroll --id ID [--server URL] [--dir DIR]

  --id ID        the client id to enroll (required)
  --server URL   coordinator URL (default http://127.0.0.1:8700)
  --dir DIR      where to write the client's files (default ./fedlearn-identities)

Makes the client's Ed25519 identity key here (its secret never leaves this machine), sends the
public key to POST /v1/enrollments with the admin token (FEDLEARN_API_TOKEN or
FEDLEARN_API_TOKEN_FILE), and writes DIR/ID.key, DIR/ID.credential (both mode 0600) and the public
key into DIR/pinned.json. Start the client with --identity-dir DIR; the credential is never printed.
For an https coordinator with a private CA, set NODE_EXTRA_CA_CERTS to the CA file.
`;

export async function runEnrollCommand(args: string[], io: CommandIo): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      id: { type: 'string' },
      server: { type: 'string', default: 'http://127.0.0.1:8700' },
      dir: { type: 'string', default: 'fedlearn-identities' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) {
    io.stdout(ENROLL_HELP);
    return 0;
  }
  if (!values.id) {
    io.stderr('fedlearn enroll: --id is required\n');
    return 2;
  }
  const token = tokenFromEnv(io.env, 'FEDLEARN_API_TOKEN');
  const key = generateIdentity(cryptoRandomBytes);
  const response = await fetch(new URL('/v1/enrollments', values.server), {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      clientId: values.id,
      identityPublicKey: Buffer.from(key.publicKey).toString('base64'),
    }),
  });
  const body = (await response.json().catch(() => ({}))) as {
    credential?: unknown;
    error?: { code?: unknown; message?: unknown };
  };
  if (!response.ok || typeof body.credential !== 'string') {
    const code = isErrorCode(body.error?.code) ? body.error.code : 'INTERNAL';
    throw new FedlearnError(
      code,
      `enrollment refused (${response.status}): ${String(body.error?.message ?? 'no error body')}`,
    );
  }
  await saveEnrollment(values.dir, values.id, key, body.credential);
  io.stdout(
    `enrolled ${values.id}: start it with fedlearn client --id ${values.id} --identity-dir ${values.dir}\n`,
  );
  return 0;
}
