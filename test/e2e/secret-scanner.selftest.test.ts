import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { npubEncode, nsecEncode } from 'nostr-tools/nip19';
import { getPublicKey } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodingsOf, SCAN_CHUNK_BYTES, scanForSecrets, type SecretHit, type SecretToFind } from '../harness/secret-scanner.js';
import { makeTempDir } from '../harness/tmp.js';

// RELIABILITY.md G19 positive control: canaries planted in the encodings a leak would take must
// each be found and named (file, encoding, offset); a directory without them must give 0 hits.

/** 32 bytes whose base64 has "+" and "/" (0xfb 0xff 0xbf → "+/+/"), so base64url differs from base64. */
function canaryBytes(): Uint8Array {
  return new Uint8Array(Buffer.concat([Buffer.from('fbffbf', 'hex'), randomBytes(29)]));
}

const sortHits = (hits: SecretHit[]) =>
  [...hits].sort((a, b) => a.file.localeCompare(b.file) || a.offset - b.offset || a.encoding.localeCompare(b.encoding));

describe('G19 secret scanner self-test', () => {
  const dir = makeTempDir('scanner');
  const outside = makeTempDir('scanner-outside');
  const canary = canaryBytes();
  const textCanary = `canary "quoted" pässwörd ${randomBytes(6).toString('hex')}`;
  const secrets: SecretToFind[] = [
    { name: 'canary-key', bytes: canary },
    { name: 'canary-text', text: textCanary },
  ];
  const paths = {
    nsec: join(dir.path, 'node-1', 'secrets.json'),
    blob: join(dir.path, 'node-2', 'blob.bin'),
    wal: join(dir.path, 'coordinator', 'state.db-wal'),
    log: join(dir.path, 'logs', 'coordinator.log'),
    large: join(dir.path, 'logs', 'large.log'),
    socket: join(dir.path, 'coordinator', 'admin.sock'),
    fifo: join(dir.path, 'coordinator', 'fifo'),
    symlink: join(dir.path, 'node-1', 'link-to-outside.json'),
  };
  const BLOB_OFFSET = 1_000;
  const WAL_OFFSET = 4_099;
  const STRADDLE_OFFSET = SCAN_CHUNK_BYTES - 20; // the 64-char hex spans the first chunk boundary
  let logOffset = 0;
  let server: Server;
  let fifoMade = false;

  beforeAll(async () => {
    for (const sub of ['node-1', 'node-2', 'coordinator', 'logs']) mkdirSync(join(dir.path, sub));
    // 1. nsec in a JSON config file.
    writeFileSync(paths.nsec, `{\n  "nodeSecretKey": "${nsecEncode(canary)}"\n}\n`);
    // 2. Upper-case hex inside a binary blob.
    writeFileSync(
      paths.blob,
      Buffer.concat([randomBytes(BLOB_OFFSET), Buffer.from(Buffer.from(canary).toString('hex').toUpperCase()), randomBytes(3_000)]),
    );
    // 3. base64url in a SQLite write-ahead log.
    writeFileSync(paths.wal, Buffer.concat([randomBytes(WAL_OFFSET), Buffer.from(Buffer.from(canary).toString('base64url')), randomBytes(900)]));
    // 4. The text canary JSON-escaped (its quotes become \") in a log line.
    const before = `{"level":"info","ts":1767225600,"msg":"unlocking"}\n{"level":"debug","msg":`;
    const line = `${before}${JSON.stringify(`passphrase is ${textCanary}`)}}\n`;
    logOffset = Buffer.byteLength(before) + Buffer.byteLength('"passphrase is ');
    writeFileSync(paths.log, line);
    // 5. Lower-case hex straddling the scanner's chunk boundary in a 3 MiB file.
    const filler = Buffer.alloc(3 * SCAN_CHUNK_BYTES, 'all quiet on the relay front\n');
    Buffer.from(Buffer.from(canary).toString('hex')).copy(filler, STRADDLE_OFFSET);
    writeFileSync(paths.large, filler);
    // Not to be read: a symlink to a file holding the canary, a Unix socket, a FIFO.
    writeFileSync(join(outside.path, 'elsewhere.json'), `"${Buffer.from(canary).toString('hex')}"`);
    symlinkSync(join(outside.path, 'elsewhere.json'), paths.symlink);
    server = createServer();
    await new Promise<void>((resolve) => server.listen(paths.socket, resolve));
    fifoMade = spawnSync('mkfifo', [paths.fifo]).status === 0;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
    dir.remove();
    outside.remove();
  });

  it('finds every canary, named with its file, encoding and offset', () => {
    const started = performance.now();
    const report = scanForSecrets([dir.path], secrets);
    const ms = Math.round(performance.now() - started);
    console.log(`[figure] scanned ${report.files} files, ${report.bytesScanned} bytes (${ms} ms, ${report.hits.length} hits)`);
    expect(sortHits(report.hits)).toEqual(
      sortHits([
        { secret: 'canary-key', encoding: 'nsec', file: paths.nsec, offset: '{\n  "nodeSecretKey": "'.length },
        { secret: 'canary-key', encoding: 'hex-upper', file: paths.blob, offset: BLOB_OFFSET },
        { secret: 'canary-key', encoding: 'base64url', file: paths.wal, offset: WAL_OFFSET },
        { secret: 'canary-text', encoding: 'json', file: paths.log, offset: logOffset },
        { secret: 'canary-key', encoding: 'hex', file: paths.large, offset: STRADDLE_OFFSET },
      ]),
    );
    expect(report.files).toBe(5);
    expect(report.bytesScanned).toBeGreaterThan(3 * SCAN_CHUNK_BYTES);
    const skipped = report.skipped.map(({ path, kind }) => ({ path, kind }));
    expect(skipped).toContainEqual({ path: paths.symlink, kind: 'symlink' });
    expect(skipped).toContainEqual({ path: paths.socket, kind: 'socket' });
    if (fifoMade) expect(skipped).toContainEqual({ path: paths.fifo, kind: 'fifo' });
  });

  it('finds the same hits whatever the chunk size (needles across every boundary)', () => {
    const reference = sortHits(scanForSecrets([dir.path], secrets).hits);
    for (const chunkSize of [65_536, 4_093]) {
      expect(sortHits(scanForSecrets([dir.path], secrets, { chunkSize }).hits), `chunk ${chunkSize}`).toEqual(reference);
    }
    // Smaller than any needle: every match straddles several reads.
    const small = [paths.nsec, paths.blob, paths.wal, paths.log];
    expect(sortHits(scanForSecrets(small, secrets, { chunkSize: 7 }).hits)).toEqual(sortHits(scanForSecrets(small, secrets).hits));
  });

  it('reports 0 hits in a clean directory holding only public material and other secrets', () => {
    const clean = makeTempDir('scanner-clean');
    try {
      const pubkey = getPublicKey(canary);
      writeFileSync(join(clean.path, 'group.json'), JSON.stringify({ pubkey, npub: npubEncode(pubkey) }));
      writeFileSync(join(clean.path, 'other.json'), JSON.stringify({ key: nsecEncode(canaryBytes()), hex: randomBytes(32).toString('hex') }));
      writeFileSync(join(clean.path, 'noise.bin'), randomBytes(2 * SCAN_CHUNK_BYTES + 17));
      writeFileSync(join(clean.path, 'app.log'), `{"msg":"passphrase: <redacted>"}\n`.repeat(1_000));
      const report = scanForSecrets([clean.path], secrets);
      console.log(`[figure] clean directory: scanned ${report.files} files, ${report.bytesScanned} bytes, ${report.hits.length} hits`);
      expect(report.hits).toEqual([]);
      expect(report.files).toBe(4);
    } finally {
      clean.remove();
    }
  });

  it('derives needles that match the secret embedded at any byte alignment of a base64 stream', () => {
    const needles = encodingsOf({ name: 'k', bytes: canary });
    const names = needles.map((n) => n.encoding);
    expect(names).toEqual(
      expect.arrayContaining(['raw', 'hex', 'hex-upper', 'nsec', 'base64', 'base64url', 'base64+1', 'base64url+2', 'decimal']),
    );
    const decimal = needles.find((n) => n.encoding === 'decimal')!;
    expect(decimal.needle.toString()).toBe(BigInt(`0x${Buffer.from(canary).toString('hex')}`).toString(10));
    for (const shift of [0, 1, 2]) {
      for (const url of [false, true]) {
        const blob = Buffer.concat([randomBytes(3 + shift), canary, randomBytes(5)]).toString(url ? 'base64url' : 'base64');
        const expected = `${url ? 'base64url' : 'base64'}${shift === 0 ? '' : `+${shift}`}`;
        const found = needles.filter((n) => blob.includes(n.needle.toString())).map((n) => n.encoding);
        expect(found, `shift ${shift}`).toContain(expected);
      }
    }
    // Standalone padded encodings contain the offset-0 needles too.
    expect(Buffer.from(canary).toString('base64')).toContain(needles.find((n) => n.encoding === 'base64')!.needle.toString());
    // nsec only for 32-byte secrets; text gets utf8, json, json-ascii and base64.
    expect(encodingsOf({ name: 's', bytes: randomBytes(16) }).map((n) => n.encoding)).not.toContain('nsec');
    const text = encodingsOf({ name: 't', text: 'a "b" ü' });
    expect(Object.fromEntries(text.map((n) => [n.encoding, n.needle.toString()]))).toMatchObject({
      utf8: 'a "b" ü',
      json: 'a \\"b\\" ü',
      'json-ascii': 'a \\"b\\" \\u00fc',
    });
  });

  it('refuses a path that does not exist rather than scanning nothing', () => {
    expect(() => scanForSecrets([join(dir.path, 'missing')], secrets)).toThrow(/ENOENT/);
  });
});
