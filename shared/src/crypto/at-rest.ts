/**
 * Sealed secret files: a whole small JSON secret document (share, node key, transport key,
 * encryption key, coordinator key) encrypted under a passphrase with the NIP-49 primitives
 * (STYLE.md 2.8 "At rest, use AEAD only"; RELIABILITY.md §2.5 and G19).
 *
 * key        = scrypt(utf8(NFKC(passphrase)), salt, N = 2^logN, r = 8, p = 1, dkLen = 32)
 * ciphertext = XChaCha20-Poly1305(key, nonce).encrypt(plaintext, aad = header bytes)
 *
 * The header (every field but `ciphertext`) is the AEAD's associated data, so editing any header
 * field (logN, salt, nonce, ...) makes the file fail to open exactly as a wrong passphrase does.
 */
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { scryptAsync } from '@noble/hashes/scrypt.js';
import { z } from 'zod';
import { ConfigError, FrostbunkerError } from '../errors.js';
import { assertBytes, bytesToHex, hexToBytes, randomBytes } from './bytes.js';

/** RELIABILITY.md G19: "NIP-49 `log_n ≥ 16`" (2^16 × 128 × 8 bytes = 64 MiB of scrypt memory). */
export const MIN_SEAL_LOG_N = 16;
/**
 * Upper bound on a header's logN: 2^20 × 1 KiB = 1 GiB. Opening trusts the header's logN, so a
 * larger bound would let whoever can edit the file make the node allocate gigabytes at start.
 */
const MAX_SEAL_LOG_N = 20;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
const KEY_BYTES = 32;
const SALT_BYTES = 16; // NIP-49: "SALT = 16 random bytes"
const NONCE_BYTES = 24; // NIP-49: "NONCE = 24 random bytes" (XChaCha20)
const TAG_BYTES = 16; // Poly1305 tag
const FORMAT = 'frostbunker-sealed';

const OPEN_FAILED = 'cannot open sealed file: wrong passphrase or corrupted file';

/** Canonical padded base64 (re-encodes to itself) of more than a Poly1305 tag. */
function isCanonicalCiphertext(text: string): boolean {
  const bytes = Buffer.from(text, 'base64');
  return bytes.length > TAG_BYTES && bytes.toString('base64') === text;
}

/** The on-disk document. `v` versions the whole layout, including the AAD encoding below. */
export const sealedFileSchema = z.strictObject({
  v: z.literal(1),
  format: z.literal(FORMAT),
  kdf: z.literal('scrypt'),
  logN: z.int().min(MIN_SEAL_LOG_N).max(MAX_SEAL_LOG_N),
  r: z.literal(SCRYPT_R),
  p: z.literal(SCRYPT_P),
  salt: z.string().regex(new RegExp(`^[0-9a-f]{${SALT_BYTES * 2}}$`), 'expected 16 bytes of lower-case hex'),
  nonce: z.string().regex(new RegExp(`^[0-9a-f]{${NONCE_BYTES * 2}}$`), 'expected 24 bytes of lower-case hex'),
  ciphertext: z
    .base64()
    .refine(isCanonicalCiphertext, 'expected canonical base64 of a Poly1305 tag and at least 1 byte'),
});

export type SealedFile = z.infer<typeof sealedFileSchema>;

/** True when `value` has the shape of a sealed file (it says nothing about the passphrase). */
export function isSealedFile(value: unknown): value is SealedFile {
  return sealedFileSchema.safeParse(value).success;
}

/**
 * The associated data: the header fields in a fixed order, as JSON. Independent of the key order
 * of the file on disk, so reformatting the JSON keeps the file openable while any value change
 * does not.
 */
function headerBytes(header: Omit<SealedFile, 'ciphertext'>): Uint8Array {
  const fields = [header.format, header.v, header.kdf, header.logN, header.r, header.p, header.salt, header.nonce];
  return new TextEncoder().encode(JSON.stringify(fields));
}

async function deriveKey(passphrase: string, salt: Uint8Array, logN: number): Promise<Uint8Array> {
  // NIP-49: "The password should be unicode normalized to NFKC format" before scrypt.
  const password = new TextEncoder().encode(passphrase.normalize('NFKC'));
  const N = 2 ** logN;
  try {
    return await scryptAsync(password, salt, {
      N,
      r: SCRYPT_R,
      p: SCRYPT_P,
      dkLen: KEY_BYTES,
      // noble's default cap is 1 GiB (logN 20); the schema bounds logN, so allow what it permits.
      maxmem: 128 * SCRYPT_R * (N + SCRYPT_P + 1) + 1024 * 1024,
    });
  } finally {
    password.fill(0); // best effort: JavaScript cannot guarantee zeroisation (SECURITY.md)
  }
}

function assertPassphrase(passphrase: unknown): asserts passphrase is string {
  if (typeof passphrase !== 'string') throw new ConfigError('passphrase', 'expected a string');
  if (passphrase.length === 0) throw new ConfigError('passphrase', 'must not be empty');
}

/**
 * Seals `plaintext` (the serialised secret document) under `passphrase`. Uses `scryptAsync` so the
 * event loop keeps serving while the key is derived (about 0.5 s at logN 16).
 *
 * @example
 * const sealed = await sealSecret(new TextEncoder().encode(JSON.stringify(share)), passphrase);
 * writeJsonFileAtomic(path, sealed); // 0600
 */
export async function sealSecret(
  plaintext: Uint8Array,
  passphrase: string,
  options: { logN?: number } = {},
): Promise<SealedFile> {
  assertBytes(plaintext, undefined, 'plaintext');
  if (plaintext.length === 0) throw new ConfigError('plaintext', 'must not be empty');
  assertPassphrase(passphrase);
  const logN = options.logN ?? MIN_SEAL_LOG_N;
  if (!Number.isSafeInteger(logN) || logN < MIN_SEAL_LOG_N || logN > MAX_SEAL_LOG_N) {
    throw new ConfigError('logN', `expected an integer ${MIN_SEAL_LOG_N}..${MAX_SEAL_LOG_N}, got ${String(logN)}`);
  }
  const salt = randomBytes(SALT_BYTES);
  const nonce = randomBytes(NONCE_BYTES);
  const header = {
    v: 1,
    format: FORMAT,
    kdf: 'scrypt',
    logN,
    r: SCRYPT_R,
    p: SCRYPT_P,
    salt: bytesToHex(salt),
    nonce: bytesToHex(nonce),
  } as const;
  const key = await deriveKey(passphrase, salt, logN);
  try {
    const ciphertext = xchacha20poly1305(key, nonce, headerBytes(header)).encrypt(plaintext);
    return { ...header, ciphertext: Buffer.from(ciphertext).toString('base64') };
  } finally {
    key.fill(0);
  }
}

/**
 * Opens a sealed file (the parsed JSON). A malformed header throws CONFIG_INVALID
 * `sealed file is malformed: <field>`; a wrong passphrase, an edited header value and a flipped
 * ciphertext bit all throw the same CONFIG_INVALID `cannot open sealed file: wrong passphrase or
 * corrupted file`, since the AEAD cannot tell them apart either.
 */
export async function openSealed(sealed: unknown, passphrase: string): Promise<Uint8Array> {
  const parsed = sealedFileSchema.safeParse(sealed);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    let field = issue?.path.join('.') || '(root)';
    if (issue?.code === 'unrecognized_keys') field = issue.keys.join(', ');
    throw new FrostbunkerError('CONFIG_INVALID', `sealed file is malformed: ${field}`);
  }
  assertPassphrase(passphrase);
  const file = parsed.data;
  const salt = hexToBytes(file.salt, SALT_BYTES, 'salt');
  const nonce = hexToBytes(file.nonce, NONCE_BYTES, 'nonce');
  const ciphertext = new Uint8Array(Buffer.from(file.ciphertext, 'base64'));
  const key = await deriveKey(passphrase, salt, file.logN);
  try {
    return xchacha20poly1305(key, nonce, headerBytes(file)).decrypt(ciphertext);
  } catch (error) {
    // One message for every AEAD failure; the cause (noble's "invalid tag") adds nothing secret.
    throw new FrostbunkerError('CONFIG_INVALID', OPEN_FAILED, { cause: error });
  } finally {
    key.fill(0);
  }
}
