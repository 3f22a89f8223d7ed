import { bytesToHex, hexToBytes } from '../crypto/bytes.js';
import { computeEventId } from '../crypto/event-id.js';
import { FrostbunkerError } from '../errors.js';
import type { NostrEvent } from './event.js';

/**
 * NIP-01 event signing and verification for every transport message, with libsecp256k1 compiled
 * to WebAssembly (`../crypto/secp256k1-wasm.ts`) instead of pure-JS noble: issue 9 measured 4.1 ->
 * 0.2 ms to sign and 2.7 -> 0.25 ms to verify (`nostr-wasm`, used before, took 0.42 and 0.38), and
 * a threshold signature sends eight events. The id is computed here (`computeEventId`).
 *
 * Each composition root (`main.ts`, the relay's start) awaits `initEventSigner()` once before it
 * builds anything that signs or verifies: it loads the module and checks it against known answers;
 * a call before that throws instead of quietly treating every event as invalid.
 */

/** Shape of an event to sign; the signer adds `pubkey`, `id` and `sig`. */
export interface EventTemplate {
  kind: number;
  created_at: number;
  tags: string[][];
  content: string;
}

/** Signs and verifies events once loaded and self-tested. */
interface Backend {
  sign(event: NostrEvent, secretKey: Uint8Array): void;
  verify(event: NostrEvent): boolean;
}

let wasm: Backend | undefined;
let loading: Promise<void> | undefined;

const MAX_REMEMBERED_SIGNATURES = 1_024;
/** Signatures that verified recently, by pubkey + id + sig; insertion-ordered, oldest evicted first. */
const verifiedSignatures = new Set<string>();

/**
 * Loads libsecp256k1 (about 40 ms) and checks it against known answers. Idempotent; concurrent
 * calls share one load, and a failed load can be retried.
 *
 * @example
 * await initEventSigner(); // in main.ts, before `new RelayPool(...)`
 */
export function initEventSigner(): Promise<void> {
  loading ??= load().catch((error: unknown) => {
    loading = undefined;
    throw new FrostbunkerError('INTERNAL', `event signer: libsecp256k1 (WebAssembly) failed to load: ${String(error)}`, { cause: error });
  });
  return loading;
}

/** True once `initEventSigner()` has resolved. */
export function isEventSignerReady(): boolean {
  return wasm !== undefined;
}

/** Throws the "not initialised" error unless `initEventSigner()` has resolved; for constructors that sign or verify later. */
export function assertEventSignerReady(): void {
  ready();
}

/**
 * Signs a new event (NIP-01 id, BIP-340 signature with fresh auxiliary randomness). The template
 * is not modified.
 *
 * @example
 * const event = finalizeEvent({ kind: KIND_NIP46, created_at, tags: [['p', peer]], content }, secretKey);
 */
export function finalizeEvent(template: EventTemplate, secretKey: Uint8Array): NostrEvent {
  const signer = ready();
  if (!isSecretKey(secretKey)) throw new TypeError('secretKey: expected 32 bytes, a scalar in [1, n-1]');
  if (!hasTemplateShape(template)) throw new TypeError('template: expected integer kind and created_at, string[][] tags, string content');
  const event: NostrEvent = {
    kind: template.kind,
    created_at: template.created_at,
    tags: template.tags,
    content: template.content,
    pubkey: '',
    id: '',
    sig: '',
  };
  signer.sign(event, secretKey);
  return event;
}

/**
 * True if `event` has the NIP-01 shape (lower-case hex id, pubkey and sig of the right lengths),
 * its id is the hash of its serialisation and its signature verifies. Never throws on bad input.
 * The shape check is strict (lower-case hex of exact lengths): an id that is not canonical would
 * slip past dedupe by id.
 *
 * The same event is often checked twice (the relay pool, then the transport, as defence in
 * depth), so signatures that verified recently are remembered by (pubkey, id, sig); a repeat
 * still recomputes the id from the fields, so an event changed since cannot pass on the memory.
 */
export function verifyEvent(event: NostrEvent): boolean {
  const verifier = ready();
  if (!hasEventShape(event)) return false;
  const signatureKey = `${event.pubkey}${event.id}${event.sig}`;
  if (verifiedSignatures.has(signatureKey) && idMatches(event)) return true;
  if (!verifier.verify(event)) return false;
  verifiedSignatures.add(signatureKey);
  if (verifiedSignatures.size > MAX_REMEMBERED_SIGNATURES) {
    const oldest = verifiedSignatures.values().next();
    if (oldest.done !== true) verifiedSignatures.delete(oldest.value);
  }
  return true;
}

function idMatches(event: NostrEvent): boolean {
  try {
    return computeEventId(event) === event.id;
  } catch {
    return false; // outside what computeEventId accepts (e.g. kind > 65535): verify in full
  }
}

function ready(): Backend {
  if (wasm === undefined) {
    throw new FrostbunkerError(
      'INTERNAL',
      'event signer not initialised: await initEventSigner() (from @frostbunker/shared/nostr) in main.ts before signing or verifying events',
    );
  }
  return wasm;
}

async function load(): Promise<void> {
  // Imported here, not at the top: the module compiles a 1.2 MB binary, which only processes that
  // talk to relays need.
  const secp = await import('../crypto/secp256k1-wasm.js');
  const candidate: Backend = {
    sign(event, secretKey) {
      event.pubkey = publicKeyOf(secretKey, secp.xOnlyPublicKey);
      event.id = computeEventId(event);
      const aux = crypto.getRandomValues(new Uint8Array(32));
      event.sig = bytesToHex(secp.signSchnorrWasm(hexToBytes(event.id, 32), secretKey, aux));
    },
    verify(event) {
      if (!idMatches(event)) return false;
      return secp.verifySchnorrWasm(hexToBytes(event.sig, 64), hexToBytes(event.id, 32), hexToBytes(event.pubkey, 32));
    },
  };
  selfTest(candidate);
  wasm = candidate;
}

/**
 * x-only public keys by secret-key array: a process signs with a handful of keys, always passing
 * the same array, and the derivation is a third of a signature's cost. The bytes are compared on
 * every use, so an array refilled with another key is derived again.
 */
const publicKeys = new WeakMap<Uint8Array, { secret: Uint8Array; pubkey: string }>();

function publicKeyOf(secretKey: Uint8Array, derive: (secretKey: Uint8Array) => Uint8Array): string {
  const known = publicKeys.get(secretKey);
  if (known !== undefined && known.secret.every((byte, i) => byte === secretKey[i])) return known.pubkey;
  const pubkey = bytesToHex(derive(secretKey));
  publicKeys.set(secretKey, { secret: Uint8Array.from(secretKey), pubkey });
  return pubkey;
}

// BIP-340 test vector 0: secret key 3 and its x-only public key.
const SELF_TEST_SECRET_KEY = Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 3 : 0));
const SELF_TEST_PUBKEY = 'f9308a019258c31049344f85f89d5229b531c845836f99b08601f113bce036f9';
// Signed with nostr-tools' pure-JS (noble) finalizeEvent under that key.
const SELF_TEST_EVENT: NostrEvent = {
  kind: 24134,
  created_at: 1_700_000_000,
  tags: [['p', 'dff1d77f2a671c5f36183726db2341be58feae1da2deced843240f7b502ba659']],
  content: 'frostbunker event-signer self-test',
  pubkey: SELF_TEST_PUBKEY,
  id: 'efb7fc43828b7b2867c151eec28005784edc6fc6df8ed1aa223ae95d00d127aa',
  sig: '308e163b1040cb78058306a865348b0b44236457a468aad1d876da414602f3b1242d94d6812c6a0a68861fe4f159e8cbcf5dbe0d34785d5133f2b22ff4b26969',
};

/** Known answers before first use: a module that signs or verifies wrongly must not start. */
function selfTest(candidate: Backend): void {
  const verifies = (event: NostrEvent): boolean => candidate.verify({ ...event });
  const flipped = (hex: string): string => `${hex.slice(0, -1)}${hex.endsWith('0') ? '1' : '0'}`;
  if (!verifies(SELF_TEST_EVENT)) throw new Error('self-test: a known-good event did not verify');
  if (verifies({ ...SELF_TEST_EVENT, sig: flipped(SELF_TEST_EVENT.sig) })) throw new Error('self-test: a forged signature verified');
  if (verifies({ ...SELF_TEST_EVENT, content: `${SELF_TEST_EVENT.content}!` })) throw new Error('self-test: a changed event verified');
  const signed: NostrEvent = { ...SELF_TEST_EVENT, pubkey: '', id: '', sig: '' };
  candidate.sign(signed, SELF_TEST_SECRET_KEY);
  if (signed.pubkey !== SELF_TEST_PUBKEY || signed.id !== SELF_TEST_EVENT.id || !verifies(signed)) {
    throw new Error('self-test: signing with the BIP-340 vector 0 key gave a wrong pubkey, id or signature');
  }
}

// secp256k1 group order n, big-endian (SEC 2 §2.4.1).
const CURVE_ORDER = Uint8Array.from(
  'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141'.match(/../g) ?? [],
  (byte) => Number.parseInt(byte, 16),
);

/** 32 bytes, not zero, below n: libsecp256k1 would otherwise abort with a message on stderr. */
function isSecretKey(secretKey: unknown): secretKey is Uint8Array {
  if (!(secretKey instanceof Uint8Array) || secretKey.length !== 32) return false;
  if (secretKey.every((byte) => byte === 0)) return false;
  for (let i = 0; i < 32; i++) {
    const byte = secretKey[i] as number;
    const limit = CURVE_ORDER[i] as number;
    if (byte !== limit) return byte < limit;
  }
  return false; // equal to n
}

const HEX_64 = /^[0-9a-f]{64}$/;
const HEX_128 = /^[0-9a-f]{128}$/;

function hasTemplateShape(template: unknown): template is EventTemplate {
  if (typeof template !== 'object' || template === null) return false;
  const { kind, created_at: createdAt, tags, content } = template as Record<string, unknown>;
  return Number.isSafeInteger(kind) && Number.isSafeInteger(createdAt) && typeof content === 'string' && isTagList(tags);
}

function hasEventShape(event: unknown): event is NostrEvent {
  if (!hasTemplateShape(event)) return false;
  const { id, pubkey, sig } = event as unknown as Record<string, unknown>;
  return typeof id === 'string' && HEX_64.test(id) && typeof pubkey === 'string' && HEX_64.test(pubkey) && typeof sig === 'string' && HEX_128.test(sig);
}

function isTagList(tags: unknown): tags is string[][] {
  if (!Array.isArray(tags)) return false;
  for (const tag of tags) {
    if (!Array.isArray(tag)) return false;
    // An indexed loop, not for-of: a sparse array's holes must fail too.
    for (let i = 0; i < tag.length; i++) if (typeof tag[i] !== 'string') return false;
  }
  return true;
}
