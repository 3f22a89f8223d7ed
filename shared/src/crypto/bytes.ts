/**
 * Byte and hex helpers for the crypto modules: strict decoding, length assertions that name the
 * field, and a comparison that does not stop at the first differing byte.
 */
import {
  bytesToHex as nobleBytesToHex,
  hexToBytes as nobleHexToBytes,
  randomBytes,
} from '@noble/hashes/utils.js';
import { ProtocolError } from '../errors.js';

export { randomBytes };

const LOWER_HEX = /^(?:[0-9a-f]{2})*$/;

/** Builds the error every crypto input check throws: code PROTOCOL_INVALID, message names the field. */
export function invalidInput(title: string, expected: string): ProtocolError {
  return new ProtocolError('PROTOCOL_INVALID', `${title}: expected ${expected}`);
}

/** Asserts `value` is a Uint8Array, of exactly `length` bytes when a length is given. */
export function assertBytes(value: unknown, length: number | undefined, title: string): Uint8Array {
  if (!(value instanceof Uint8Array)) throw invalidInput(title, 'Uint8Array');
  if (length !== undefined && value.length !== length)
    throw invalidInput(title, `${length} bytes, got ${value.length}`);
  return value;
}

/** Decodes lower-case hex (our wire form), of exactly `length` bytes when a length is given. */
export function hexToBytes(hex: unknown, length?: number, title = 'hex'): Uint8Array {
  // Lower case only: one canonical spelling keeps string-keyed maps and equality checks sound.
  if (typeof hex !== 'string' || !LOWER_HEX.test(hex)) throw invalidInput(title, 'lower-case hex');
  const bytes = nobleHexToBytes(hex);
  if (length !== undefined && bytes.length !== length)
    throw invalidInput(title, `${length} bytes of hex, got ${bytes.length}`);
  return bytes;
}

/** Encodes bytes as lower-case hex. */
export function bytesToHex(bytes: Uint8Array): string {
  return nobleBytesToHex(assertBytes(bytes, undefined, 'bytes'));
}

/** Compares two byte arrays without an early exit on the first difference (lengths are public). */
export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  assertBytes(a, undefined, 'a');
  assertBytes(b, undefined, 'b');
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= (a[i] as number) ^ (b[i] as number);
  return diff === 0;
}
