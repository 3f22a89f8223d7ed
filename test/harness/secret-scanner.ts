/**
 * RELIABILITY.md G19 secret scanner: reads every byte of every file under some paths (configs,
 * state, SQLite `-wal`/`-shm`, logs) and reports where any secret appears in any encoding we or a
 * library might write it in. The scanner self-test (test/e2e/secret-scanner.selftest.test.ts)
 * plants canaries and must find each one; a G19 run must find none.
 */
import { closeSync, lstatSync, openSync, readSync, readdirSync, statSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { nsecEncode } from 'nostr-tools/nip19';

export interface SecretToFind {
  /** How hits name it, e.g. `node-1 signingShare`. Never the secret itself. */
  name: string;
  /** A binary secret: key, share, nonce. */
  bytes?: Uint8Array;
  /** A text secret: passphrase, bearer token, decrypted DM plaintext. */
  text?: string;
}

export interface SecretHit {
  secret: string;
  encoding: string;
  file: string;
  /** Byte offset of the first byte of the match in the file. */
  offset: number;
}

export interface ScanReport {
  hits: SecretHit[];
  bytesScanned: number;
  /** Regular files read. */
  files: number;
  /** What was not read, and why: symlinks (not followed), sockets, FIFOs, devices. */
  skipped: { path: string; kind: string }[];
}

export interface ScanOptions {
  /** Bytes read per step (each step also re-reads the last `longest needle − 1` bytes). */
  chunkSize?: number;
}

/** Default read size. Needles that straddle a chunk boundary are found through the overlap. */
export const SCAN_CHUNK_BYTES = 1 << 20;

/** Shortest needle worth searching for: shorter ones would match by chance in megabytes of data. */
const MIN_NEEDLE_CHARS = 8;

/**
 * The base64 characters that depend only on `data`'s bytes when `data` sits at byte `shift`
 * (0, 1 or 2) of a longer base64-encoded stream: the same whatever surrounds it, so it is found
 * inside a larger base64 blob as well as alone (with or without `=` padding).
 */
function stableBase64(data: Uint8Array, shift: number, url: boolean): string {
  const shifted = Buffer.concat([Buffer.alloc(shift), Buffer.from(data)]);
  let encoded = shifted.toString('base64').replace(/=+$/, '');
  if (url) encoded = encoded.replaceAll('+', '-').replaceAll('/', '_');
  // Character i covers bits [6i, 6i + 6) of the stream; the secret covers [8·shift, 8·(shift + n)).
  const first = Math.ceil((8 * shift) / 6);
  const last = Math.floor((8 * (shift + data.length)) / 6);
  return encoded.slice(first, last);
}

function base64Family(data: Uint8Array): { encoding: string; needle: string }[] {
  const out: { encoding: string; needle: string }[] = [];
  for (const url of [false, true]) {
    for (const shift of [0, 1, 2]) {
      const name = `${url ? 'base64url' : 'base64'}${shift === 0 ? '' : `+${shift}`}`;
      out.push({ encoding: name, needle: stableBase64(data, shift, url) });
    }
  }
  return out;
}

/** JSON string escaping with every non-ASCII character as `\uXXXX` (Python's `ensure_ascii`). */
function jsonAscii(text: string): string {
  return JSON.stringify(text)
    .slice(1, -1)
    .replace(/[\u0080-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/**
 * Every needle a secret is searched for, named by encoding. Bytes: raw, lower and upper hex, nsec
 * (32-byte secrets only), base64 and base64url at the three byte alignments (`base64`,
 * `base64+1`, `base64+2`, ...; unpadded, so padded and embedded forms match too), and the decimal
 * big-endian integer. Text: UTF-8, JSON-escaped (without the quotes), JSON-escaped ASCII-only, and
 * the base64 family of its UTF-8 bytes. Needles shorter than 8 bytes are dropped (chance matches);
 * identical needles are kept once, under the first name.
 */
export function encodingsOf(secret: SecretToFind): { encoding: string; needle: Buffer }[] {
  if (typeof secret.name !== 'string' || secret.name.length === 0) throw new TypeError('secret.name: expected a name');
  if (secret.bytes === undefined && secret.text === undefined) {
    throw new TypeError(`secret ${secret.name}: expected bytes or text`);
  }
  const candidates: { encoding: string; needle: Buffer }[] = [];
  const add = (encoding: string, needle: string | Uint8Array): void => {
    candidates.push({ encoding, needle: typeof needle === 'string' ? Buffer.from(needle, 'utf8') : Buffer.from(needle) });
  };
  if (secret.bytes !== undefined) {
    const bytes = secret.bytes;
    if (!(bytes instanceof Uint8Array) || bytes.length === 0) {
      throw new TypeError(`secret ${secret.name}: bytes must be a non-empty Uint8Array`);
    }
    const hex = Buffer.from(bytes).toString('hex');
    add('raw', bytes);
    add('hex', hex);
    add('hex-upper', hex.toUpperCase());
    if (bytes.length === 32) add('nsec', nsecEncode(bytes));
    for (const { encoding, needle } of base64Family(bytes)) add(encoding, needle);
    add('decimal', BigInt(`0x${hex}`).toString(10));
  }
  if (secret.text !== undefined) {
    const text = secret.text;
    if (typeof text !== 'string' || text.length === 0) throw new TypeError(`secret ${secret.name}: text must be non-empty`);
    add('utf8', text);
    add('json', JSON.stringify(text).slice(1, -1));
    add('json-ascii', jsonAscii(text));
    for (const { encoding, needle } of base64Family(Buffer.from(text, 'utf8'))) add(encoding, needle);
  }
  const seen = new Set<string>();
  return candidates.filter(({ needle }) => {
    if (needle.length < MIN_NEEDLE_CHARS) return false;
    const key = needle.toString('hex');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

interface Needle {
  secret: string;
  encoding: string;
  needle: Buffer;
}

function kindOf(stats: Stats): string {
  if (stats.isSymbolicLink()) return 'symlink';
  if (stats.isSocket()) return 'socket';
  if (stats.isFIFO()) return 'fifo';
  if (stats.isCharacterDevice()) return 'character device';
  if (stats.isBlockDevice()) return 'block device';
  return 'other';
}

/** Streams one file through a buffer of `chunkSize + overlap` bytes, reporting each match once. */
function scanFile(path: string, needles: Needle[], overlap: number, chunkSize: number, report: ScanReport): void {
  const buffer = Buffer.alloc(chunkSize + overlap);
  const fd = openSync(path, 'r');
  try {
    let carried = 0; // bytes kept from the previous step, at the start of `buffer`
    let windowStart = 0; // file offset of buffer[0]
    for (;;) {
      const read = readSync(fd, buffer, carried, chunkSize, null);
      if (read === 0) break;
      report.bytesScanned += read;
      const window = buffer.subarray(0, carried + read);
      for (const { secret, encoding, needle } of needles) {
        // A match lying wholly inside the carried bytes was reported in the previous step.
        let from = Math.max(0, carried - needle.length + 1);
        for (;;) {
          const at = window.indexOf(needle, from);
          if (at < 0) break;
          report.hits.push({ secret, encoding, file: path, offset: windowStart + at });
          from = at + 1;
        }
      }
      const keep = Math.min(overlap, window.length);
      buffer.copyWithin(0, window.length - keep, window.length);
      windowStart += window.length - keep;
      carried = keep;
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * Scans every regular file under `paths` (recursively, as raw bytes, any size) for every encoding
 * of every secret. Symlinks inside the tree are not followed (a path given directly is); sockets,
 * FIFOs and devices are skipped and listed; a file reached twice (hard link, overlapping paths) is
 * read once. A path that does not exist or cannot be read throws: a scan must not pass by reading
 * nothing.
 *
 * @example
 * const report = scanForSecrets([lab.root], [{ name: 'passphrase', text: passphrase }]);
 * expect(report.hits).toEqual([]);
 */
export function scanForSecrets(paths: string[], secrets: SecretToFind[], options: ScanOptions = {}): ScanReport {
  const chunkSize = options.chunkSize ?? SCAN_CHUNK_BYTES;
  if (!Number.isSafeInteger(chunkSize) || chunkSize < 1) throw new RangeError('chunkSize: expected a positive integer');
  const needles: Needle[] = secrets.flatMap((secret) =>
    encodingsOf(secret).map(({ encoding, needle }) => ({ secret: secret.name, encoding, needle })),
  );
  const overlap = Math.max(0, ...needles.map(({ needle }) => needle.length - 1));
  const report: ScanReport = { hits: [], bytesScanned: 0, files: 0, skipped: [] };
  const visited = new Set<string>();

  const visit = (path: string, stats: Stats): void => {
    const id = `${stats.dev}:${stats.ino}`;
    if (stats.isDirectory()) {
      if (visited.has(id)) return;
      visited.add(id);
      for (const name of readdirSync(path).sort()) {
        const child = join(path, name);
        visit(child, lstatSync(child));
      }
    } else if (stats.isFile()) {
      if (visited.has(id)) return;
      visited.add(id);
      report.files += 1;
      if (needles.length > 0) scanFile(path, needles, overlap, chunkSize, report);
      else report.bytesScanned += stats.size;
    } else {
      report.skipped.push({ path, kind: kindOf(stats) });
    }
  };

  for (const path of paths) visit(path, statSync(path));
  return report;
}
