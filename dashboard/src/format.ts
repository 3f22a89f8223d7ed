/** NIP-19 npub (bech32, BIP-173) of a 32-byte hex pubkey; small enough to keep in the page. */
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';

function polymod(values: number[]): number {
  const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
  let chk = 1;
  for (const value of values) {
    const top = chk >> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ value;
    for (let i = 0; i < 5; i++) if ((top >> i) & 1) chk ^= GEN[i]!;
  }
  return chk;
}

export function npubOf(hex: string): string {
  if (!/^[0-9a-f]{64}$/.test(hex)) return hex;
  const bytes = hex.match(/../g)!.map((b) => parseInt(b, 16));
  const words: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const byte of bytes) {
    acc = (acc << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) words.push((acc << (5 - bits)) & 31);
  const hrp = 'npub';
  const expanded = [...[...hrp].map((c) => c.charCodeAt(0) >> 5), 0, ...[...hrp].map((c) => c.charCodeAt(0) & 31)];
  const mod = polymod([...expanded, ...words, 0, 0, 0, 0, 0, 0]) ^ 1;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
}

export function short(text: string, keep = 10): string {
  return text.length > keep * 2 + 1 ? `${text.slice(0, keep)}…${text.slice(-6)}` : text;
}

export const nowSec = () => Math.floor(Date.now() / 1000);

/** "2 h 5 min left", "expired 3 min ago". */
export function timeLeft(untilSec: number | undefined, now = nowSec()): string {
  if (untilSec === undefined) return 'no end';
  const delta = untilSec - now;
  return delta > 0 ? `${duration(delta)} left` : `ended ${duration(-delta)} ago`;
}

export function ago(atSec: number, now = nowSec()): string {
  const delta = Math.max(0, now - atSec);
  return delta < 5 ? 'just now' : `${duration(delta)} ago`;
}

export function duration(sec: number): string {
  if (sec < 60) return `${sec} s`;
  if (sec < 3600) return `${Math.floor(sec / 60)} min`;
  if (sec < 86_400) return `${Math.floor(sec / 3600)} h ${Math.floor((sec % 3600) / 60)} min`;
  return `${Math.floor(sec / 86_400)} d ${Math.floor((sec % 86_400) / 3600)} h`;
}

export function clock(atSec: number): string {
  return new Date(atSec * 1000).toLocaleString(undefined, { dateStyle: 'short', timeStyle: 'medium' });
}

const KIND_NAMES: Record<number, string> = {
  0: 'profile metadata', 1: 'short text note', 3: 'follow list', 4: 'encrypted direct message (NIP-04)', 5: 'event deletion request',
  6: 'repost', 7: 'reaction', 13: 'seal', 14: 'chat message', 16: 'generic repost', 40: 'channel creation', 41: 'channel metadata',
  42: 'channel message', 1059: 'gift wrap', 1111: 'comment', 1984: 'report', 9734: 'zap request', 9735: 'zap receipt',
  10000: 'mute list', 10002: 'relay list metadata', 10044: 'encryption key (NIP-4e)', 13194: 'wallet info', 22242: 'relay authentication',
  23194: 'wallet request', 23195: 'wallet response', 24133: 'NIP-46 request', 27235: 'HTTP auth (NIP-98)', 30023: 'long-form article',
  30078: 'application-specific data',
};

export function kindName(kind: number | undefined): string {
  if (kind === undefined) return '';
  return KIND_NAMES[kind] ?? (kind >= 30_000 && kind < 40_000 ? 'addressable event' : kind >= 10_000 && kind < 20_000 ? 'replaceable event' : kind >= 20_000 && kind < 30_000 ? 'ephemeral event' : 'regular event');
}
