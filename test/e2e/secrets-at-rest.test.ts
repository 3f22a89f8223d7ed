import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import * as nip44 from 'nostr-tools/nip44';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isSealedFile, openSealed } from '@frostbunker/shared/crypto';
import { ENTRY_POINTS, Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { scanForSecrets, type SecretToFind } from '../harness/secret-scanner.js';
import { makeTempDir } from '../harness/tmp.js';

const HEX_FIELDS = ['coordinatorSecretKey', 'transportSecretKey', 'connectSecret', 'nodeSecretKey', 'signingShare'];

/** Every secret a sealed secrets file holds, found by walking its decrypted JSON. */
async function secretsIn(path: string, passphrase: string): Promise<SecretToFind[]> {
  const sealed: unknown = JSON.parse(readFileSync(path, 'utf8'));
  const found: SecretToFind[] = [];
  const walk = (value: unknown, name: string): void => {
    if (typeof value === 'string' && /^([0-9a-f]{2}){16,32}$/.test(value) && HEX_FIELDS.some((f) => name.includes(f) || name.includes('encryptionKeys'))) {
      found.push({ name: `${path}:${name}`, bytes: Buffer.from(value, 'hex') });
    } else if (Array.isArray(value)) value.forEach((v, i) => walk(v, `${name}[${i}]`));
    else if (typeof value === 'object' && value !== null) for (const [k, v] of Object.entries(value)) walk(v, name ? `${name}.${k}` : k);
  };
  walk(JSON.parse(new TextDecoder().decode(await openSealed(sealed, passphrase))), '');
  return found;
}

// RELIABILITY.md G19 at CI size: a lab with sealed secrets signs and decrypts, then every file it
// wrote (configs, state, acl.db with its WAL, node logs, process logs) is scanned for every secret
// in every encoding.
describe('secrets at rest (sealed lab, real processes)', () => {
  const dir = makeTempDir('sealed');
  const passphrase = `correct horse ${randomBytes(6).toString('hex')} staple`;
  const dmPlaintext = `DM canary ${randomBytes(8).toString('hex')}`;
  let lab: Lab;
  let tokenSecret = '';

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0, passphrase });
    tokenSecret = new URL(lab.bunkerUrl).searchParams.get('secret')!;
    await lab.waitForQuorum();
    await lab.waitForAnnouncement();
    const client = await connectBunkerSigner(lab.bunkerUrl);
    for (let i = 0; i < 3; i++) {
      await withDeadline(client.signer.signEvent({ kind: 1, content: `sealed ${i}`, tags: [], created_at: Math.floor(Date.now() / 1000) }), 20_000, 'sign');
    }
    const peer = generateSecretKey();
    const payload = nip44.encrypt(dmPlaintext, nip44.getConversationKey(peer, lab.encryptionPubkey));
    expect(await withDeadline(client.signer.nip44Decrypt(getPublicKey(peer), payload), 15_000, 'decrypt')).toBe(dmPlaintext);
    await client.close();
    await lab.stop();
  });
  afterAll(() => dir.remove());

  const secretFiles = () => [join(lab.layout.coordinatorDir, 'secrets.json'), ...lab.layout.nodeDirs.map((d) => join(d, 'secrets.json'))];

  it('stores every secrets file sealed with scrypt log_n ≥ 16, mode 0600, in 0700 directories', () => {
    for (const path of secretFiles()) {
      const sealed: unknown = JSON.parse(readFileSync(path, 'utf8'));
      expect(isSealedFile(sealed)).toBe(true);
      expect((sealed as { logN: number }).logN).toBeGreaterThanOrEqual(16);
      expect(statSync(path).mode & 0o777).toBe(0o600);
      expect(statSync(join(path, '..')).mode & 0o777).toBe(0o700);
    }
  });

  it('leaves no secret in any file or log the run wrote (G19)', async () => {
    // The connection token lives in acl.db (and its -wal/-shm) only as its sha256.
    const secrets: SecretToFind[] = [
      { name: 'passphrase', text: passphrase },
      { name: 'decrypted DM', text: dmPlaintext },
      { name: 'bunker:// token', bytes: Buffer.from(tokenSecret, 'hex') },
    ];
    for (const path of secretFiles()) secrets.push(...(await secretsIn(path, passphrase)));
    expect(secrets.filter((s) => s.bytes).length).toBeGreaterThanOrEqual(10); // token + 3 coordinator keys + 2 per node
    const report = scanForSecrets([dir.path], secrets);
    console.log(`[figure] G19: ${secrets.length} secrets, ${report.files} files, ${report.bytesScanned} bytes scanned, ${report.hits.length} hits`);
    expect(report.hits).toEqual([]);
  });

  it('refuses a wrong passphrase with a clear error and leaves the file unchanged', () => {
    const nodeDir = lab.layout.nodeDirs[0]!;
    const path = join(nodeDir, 'secrets.json');
    const before = createHash('sha256').update(readFileSync(path)).digest('hex');
    const run = spawnSync(process.execPath, [ENTRY_POINTS.shareNode, '--data', nodeDir], {
      env: { ...process.env, FROSTBUNKER_PASSPHRASE: 'not the passphrase' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/wrong passphrase or corrupted file/);
    expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(before);
  });

  it('refuses to start on a sealed file when no passphrase source is available, saying how to give one', () => {
    const env = { ...process.env };
    delete env.FROSTBUNKER_PASSPHRASE;
    const run = spawnSync(process.execPath, [ENTRY_POINTS.shareNode, '--data', lab.layout.nodeDirs[1]!], { env, encoding: 'utf8', timeout: 30_000 });
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/no passphrase.*--passphrase-file/);
  });
});
