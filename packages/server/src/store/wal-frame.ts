import { crc32 } from 'node:zlib';
import { FedlearnError } from '@fedlearn/core';

/**
 * A log frame: payload length (u32 LE), CRC-32 of the payload (u32 LE), the payload. The checksum
 * is what tells a torn tail (a crash in the middle of an append) from a whole record.
 */
const HEADER_BYTES = 8;
/** The largest log record the store writes (a bigger write is refused); a bigger length read back is damage. */
export const MAX_RECORD_BYTES = 64 * 1024 * 1024;
/** A snapshot holds the whole state: bounded by the u32 length field only. */
export const MAX_SNAPSHOT_BYTES = 0xffff_ffff;

export function encodeFrame(payload: Uint8Array): Buffer {
  const frame = Buffer.alloc(HEADER_BYTES + payload.length);
  frame.writeUInt32LE(payload.length, 0);
  frame.writeUInt32LE(crc32(payload), 4);
  frame.set(payload, HEADER_BYTES);
  return frame;
}

export interface DecodedLog {
  payloads: Buffer[];
  /** Where the whole frames end; anything after is a torn tail to cut off. */
  validBytes: number;
}

/**
 * Reads frames until the end. A bad frame followed by no whole frame is a torn tail (cut off); a
 * bad frame with a whole frame after it is damage a crash cannot cause, and is `STORE_CORRUPT`.
 */
export function decodeFrames(bytes: Buffer, what: string, maxFrameBytes = MAX_RECORD_BYTES): DecodedLog {
  const payloads: Buffer[] = [];
  let offset = 0;
  while (offset < bytes.length) {
    const frameEnd = wholeFrameEnd(bytes, offset, maxFrameBytes);
    if (frameEnd === undefined) {
      if (isTornTail(bytes, offset, maxFrameBytes)) return { payloads, validBytes: offset };
      throw new FedlearnError('STORE_CORRUPT', `${what} is damaged at byte ${offset}`, {
        details: { offset },
      });
    }
    payloads.push(bytes.subarray(offset + HEADER_BYTES, frameEnd));
    offset = frameEnd;
  }
  return { payloads, validBytes: offset };
}

function wholeFrameEnd(bytes: Buffer, offset: number, maxFrameBytes: number): number | undefined {
  if (bytes.length - offset < HEADER_BYTES) return undefined;
  const length = bytes.readUInt32LE(offset);
  const end = offset + HEADER_BYTES + length;
  if (length === 0 || length > maxFrameBytes || end > bytes.length) return undefined;
  const payload = bytes.subarray(offset + HEADER_BYTES, end);
  return crc32(payload) === bytes.readUInt32LE(offset + 4) ? end : undefined;
}

/**
 * A crash tears only the frame being appended, so a torn tail holds no whole frame after its
 * start. A damaged length could otherwise hide every record behind it.
 */
function isTornTail(bytes: Buffer, offset: number, maxFrameBytes: number): boolean {
  for (let next = offset + 1; next + HEADER_BYTES < bytes.length; next += 1) {
    if (wholeFrameEnd(bytes, next, maxFrameBytes) !== undefined) return false;
  }
  return true;
}
