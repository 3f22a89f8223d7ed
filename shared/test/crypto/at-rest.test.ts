import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readJsonFile, writeJsonFileAtomic } from '../../src/config/files.js';
import {
  MIN_SEAL_LOG_N,
  isSealedFile,
  openSealed,
  sealSecret,
  sealedFileSchema,
  type SealedFile,
} from '../../src/crypto/at-rest.js';
import { FrostbunkerError } from '../../src/errors.js';

// Each logN-16 scrypt costs about 0.5 s here (scryptAsync yields every 10 ms), so the file seals
// once and every tamper case opens that one file: about ten key derivations in all.

const OPEN_FAILED = 'cannot open sealed file: wrong passphrase or corrupted file';
/** NFC spelling; "ﬁ" is a compatibility ligature that NFKC turns into "fi". */
const PASSPHRASE = 'p\u00e4ssw\u00f6rd \ufb01ne';
const SHARE_HEX = 'c90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22';
const PLAINTEXT_TEXT = JSON.stringify({ v: 1, kind: 'share-node-secrets', signingShare: SHARE_HEX });
const plaintext = new TextEncoder().encode(PLAINTEXT_TEXT);

async function expectOpenFailed(sealed: unknown, passphrase = PASSPHRASE): Promise<void> {
  const error = await openSealed(sealed, passphrase).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(FrostbunkerError);
  expect((error as FrostbunkerError).code).toBe('CONFIG_INVALID');
  expect((error as FrostbunkerError).message).toBe(OPEN_FAILED);
}

async function expectMalformed(sealed: unknown, field: string): Promise<void> {
  await expect(openSealed(sealed, PASSPHRASE)).rejects.toThrow(
    new FrostbunkerError('CONFIG_INVALID', `sealed file is malformed: ${field}`),
  );
}

function flipBitInHex(hex: string, byteIndex: number): string {
  const bytes = Buffer.from(hex, 'hex');
  bytes[byteIndex] = (bytes[byteIndex] as number) ^ 0x01;
  return bytes.toString('hex');
}

describe('sealSecret / openSealed (scrypt + XChaCha20-Poly1305)', () => {
  let sealed: SealedFile;
  let dir: string;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'frostbunker-at-rest-'));
    const started = performance.now();
    sealed = await sealSecret(plaintext, PASSPHRASE);
    console.log(`[figure] sealSecret at logN ${MIN_SEAL_LOG_N} (scryptAsync): ${Math.round(performance.now() - started)} ms`);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips through a 0600 file and reads back logN >= 16', async () => {
    const path = join(dir, 'secrets.json');
    writeJsonFileAtomic(path, sealed);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const fromDisk = readJsonFile(path, sealedFileSchema);
    expect(isSealedFile(fromDisk)).toBe(true);
    expect(fromDisk.logN).toBeGreaterThanOrEqual(MIN_SEAL_LOG_N);
    expect(fromDisk).toMatchObject({ v: 1, format: 'frostbunker-sealed', kdf: 'scrypt', logN: 16, r: 8, p: 1 });
    expect(fromDisk.salt).toMatch(/^[0-9a-f]{32}$/);
    expect(fromDisk.nonce).toMatch(/^[0-9a-f]{48}$/);
    expect(Buffer.from(await openSealed(fromDisk, PASSPHRASE)).toString('utf8')).toBe(PLAINTEXT_TEXT);
  });

  it('opens with the passphrase typed in another Unicode normal form (NFKC, as NIP-49)', async () => {
    const nfd = PASSPHRASE.normalize('NFD');
    expect(nfd).not.toBe(PASSPHRASE);
    expect(Buffer.from(await openSealed(sealed, nfd)).toString('utf8')).toBe(PLAINTEXT_TEXT);
  });

  it('refuses a wrong passphrase with the one open error', async () => {
    await expectOpenFailed(sealed, `${PASSPHRASE}!`);
  });

  it('gives the same error for one flipped bit in the ciphertext, nonce or salt', async () => {
    const ciphertext = Buffer.from(sealed.ciphertext, 'base64');
    ciphertext[3] = (ciphertext[3] as number) ^ 0x80;
    await expectOpenFailed({ ...sealed, ciphertext: ciphertext.toString('base64') });
    await expectOpenFailed({ ...sealed, nonce: flipBitInHex(sealed.nonce, 23) });
    await expectOpenFailed({ ...sealed, salt: flipBitInHex(sealed.salt, 0) });
  });

  it('gives the same error for an edited logN that is still in range (the header is bound)', async () => {
    await expectOpenFailed({ ...sealed, logN: MIN_SEAL_LOG_N + 1 });
  });

  it('names the field of a malformed header, without deriving a key', async () => {
    const { nonce: _nonce, ...withoutNonce } = sealed;
    await expectMalformed(withoutNonce, 'nonce');
    await expectMalformed({ ...sealed, logN: 15 }, 'logN');
    await expectMalformed({ ...sealed, logN: 23 }, 'logN');
    await expectMalformed({ ...sealed, logN: 16.5 }, 'logN');
    await expectMalformed({ ...sealed, r: 16 }, 'r');
    await expectMalformed({ ...sealed, v: 2 }, 'v');
    await expectMalformed({ ...sealed, kdf: 'argon2id' }, 'kdf');
    await expectMalformed({ ...sealed, salt: sealed.salt.toUpperCase() }, 'salt');
    await expectMalformed({ ...sealed, salt: sealed.salt.slice(2) }, 'salt');
    await expectMalformed({ ...sealed, ciphertext: `${sealed.ciphertext}!` }, 'ciphertext');
    await expectMalformed({ ...sealed, ciphertext: Buffer.alloc(16).toString('base64') }, 'ciphertext');
    await expectMalformed({ ...sealed, comment: 'hi' }, 'comment');
    await expectMalformed('not an object', '(root)');
    expect(isSealedFile({ ...sealed, logN: 15 })).toBe(false);
    expect(isSealedFile({ signingShare: SHARE_HEX })).toBe(false);
  });

  it('rejects non-canonical base64 (padding bits) instead of ignoring the edit', async () => {
    // This plaintext's ciphertext length is not a multiple of 3, so the base64 ends in "=" or "=="
    // and its last data character carries bits the decoder ignores.
    const text = sealed.ciphertext;
    const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
    expect(padding).toBeGreaterThan(0);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
    const last = text.length - padding - 1;
    const edited = `${text.slice(0, last)}${alphabet[alphabet.indexOf(text[last] as string) ^ 1]}${text.slice(last + 1)}`;
    expect(Buffer.from(edited, 'base64')).toEqual(Buffer.from(text, 'base64'));
    await expectMalformed({ ...sealed, ciphertext: edited }, 'ciphertext');
  });

  it('keeps the plaintext and the passphrase out of the sealed JSON', () => {
    const json = JSON.stringify(sealed);
    const needles = [
      PLAINTEXT_TEXT,
      SHARE_HEX,
      SHARE_HEX.toUpperCase(),
      Buffer.from(SHARE_HEX, 'hex').toString('base64').slice(0, 42),
      Buffer.from(SHARE_HEX, 'hex').toString('base64url').slice(0, 42),
      Buffer.from(plaintext).toString('hex'),
      Buffer.from(plaintext).toString('base64').slice(0, 40),
      PASSPHRASE,
      PASSPHRASE.normalize('NFKC'),
      JSON.stringify(PASSPHRASE).slice(1, -1),
      Buffer.from(PASSPHRASE).toString('hex'),
      Buffer.from(PASSPHRASE).toString('base64').slice(0, 16),
    ];
    for (const needle of needles) expect(json, needle).not.toContain(needle);
  });

  it('refuses logN below 16, an empty passphrase and an empty or non-byte plaintext', async () => {
    await expect(sealSecret(plaintext, PASSPHRASE, { logN: 15 })).rejects.toThrow(/logN/);
    await expect(sealSecret(plaintext, PASSPHRASE, { logN: 8 })).rejects.toThrow(/logN/);
    await expect(sealSecret(plaintext, PASSPHRASE, { logN: 23 })).rejects.toThrow(/logN/);
    await expect(sealSecret(plaintext, '')).rejects.toThrow(/passphrase/);
    await expect(sealSecret(new Uint8Array(0), PASSPHRASE)).rejects.toThrow(/plaintext/);
    await expect(sealSecret('secret' as unknown as Uint8Array, PASSPHRASE)).rejects.toThrow(/plaintext/);
    await expect(openSealed(sealed, '')).rejects.toThrow(/passphrase/);
  });
});
