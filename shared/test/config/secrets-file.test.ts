import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { describe, expect, it } from 'vitest';
import { readSecretsFile, writeSecretsFile } from '../../src/config/secrets-file.js';

const schema = z.strictObject({ v: z.literal(1), storage: z.literal('insecure-plaintext').optional(), key: z.string() });
const file = () => join(mkdtempSync(join(tmpdir(), 'frostbunker-secrets-')), 'secrets.json');
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

describe('secrets files', () => {
  it('refuses a plaintext file unless --insecure-plaintext, and reads it when allowed', async () => {
    const path = file();
    await writeSecretsFile(path, { v: 1, key: 'k' }, {});
    await expect(readSecretsFile(path, schema, { insecurePlaintext: false })).rejects.toThrow(/plaintext.*--insecure-plaintext/);
    expect(await readSecretsFile(path, schema, { insecurePlaintext: true })).toMatchObject({ key: 'k' });
  });

  it('refuses an unmarked plaintext file even with --insecure-plaintext (it may be a mistake)', async () => {
    const path = file();
    writeFileSync(path, JSON.stringify({ v: 1, key: 'k' }));
    await expect(readSecretsFile(path, schema, { insecurePlaintext: true })).rejects.toThrow(/plaintext/);
  });

  it('seals under a passphrase and opens with it; the sealed file holds no plaintext', async () => {
    const path = file();
    await writeSecretsFile(path, { v: 1, key: 'the-secret-value' }, { passphrase: 'pass phrase' });
    expect(readFileSync(path, 'utf8')).not.toContain('the-secret-value');
    expect(await readSecretsFile(path, schema, { insecurePlaintext: false, passphrase: async () => 'pass phrase' })).toEqual({ v: 1, key: 'the-secret-value' });
  });

  it('gives a clear error for a wrong passphrase, a missing one, and changes nothing', async () => {
    const path = file();
    await writeSecretsFile(path, { v: 1, key: 'k' }, { passphrase: 'right' });
    const before = sha(path);
    await expect(readSecretsFile(path, schema, { insecurePlaintext: true, passphrase: async () => 'wrong' })).rejects.toThrow(/wrong passphrase or corrupted file/);
    await expect(readSecretsFile(path, schema, { insecurePlaintext: true })).rejects.toThrow(/passphrase is needed/);
    expect(sha(path)).toBe(before);
  });
});
