/**
 * NIP-01 event serialisation and id. Share nodes recompute the id from the fields they receive
 * (never trusting a supplied `id`), so this must match nostr-tools `getEventHash` byte for byte.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { utf8ToBytes } from '@noble/hashes/utils.js';
import type { EventId } from '../protocol/brands.js';
import { bytesToHex, invalidInput } from './bytes.js';

/** The fields of a Nostr event that its id commits to. */
export interface UnsignedEvent {
  pubkey: string;
  created_at: number;
  kind: number;
  tags: string[][];
  content: string;
}

const HEX32 = /^[0-9a-f]{64}$/;
// NIP-01: "kind: <integer between 0 and 65535>".
const MAX_KIND = 65535;

function assertUnsignedEvent(event: unknown): asserts event is UnsignedEvent {
  if (typeof event !== 'object' || event === null) throw invalidInput('event', 'object');
  const e = event as Record<string, unknown>;
  if (typeof e.pubkey !== 'string' || !HEX32.test(e.pubkey))
    throw invalidInput('event.pubkey', '32-byte lower-case hex');
  if (typeof e.created_at !== 'number' || !Number.isSafeInteger(e.created_at) || e.created_at < 0)
    throw invalidInput('event.created_at', 'non-negative integer (unix seconds)');
  if (typeof e.kind !== 'number' || !Number.isInteger(e.kind) || e.kind < 0 || e.kind > MAX_KIND)
    throw invalidInput('event.kind', `integer 0..${MAX_KIND}`);
  if (!Array.isArray(e.tags)) throw invalidInput('event.tags', 'array of string arrays');
  e.tags.forEach((tag: unknown, i) => {
    if (!Array.isArray(tag) || !tag.every((item) => typeof item === 'string'))
      throw invalidInput(`event.tags[${i}]`, 'array of strings');
  });
  if (typeof e.content !== 'string') throw invalidInput('event.content', 'string');
}

/**
 * Serialises an event the NIP-01 way, exactly as nostr-tools does (`JSON.stringify` of the array).
 * @example serializeEvent({ pubkey, created_at: 1, kind: 1, tags: [], content: 'hi' })
 */
export function serializeEvent(event: UnsignedEvent): string {
  assertUnsignedEvent(event);
  // NIP-01: "[0, <pubkey, as a lowercase hex string>, <created_at, as a number>, <kind, as a
  // number>, <tags, as an array of arrays of non-null strings>, <content, as a string>]".
  // JSON.stringify gives exactly the escaping NIP-01 lists (\n \" \\ \r \t \b \f, other control
  // characters as \u00XX, no escaping of non-ASCII), and escapes lone surrogates, so the UTF-8
  // encoding below never has to replace one.
  return JSON.stringify([0, event.pubkey, event.created_at, event.kind, event.tags, event.content]);
}

/** Computes the NIP-01 event id: sha256 of the UTF-8 serialisation, lower-case hex. */
export function computeEventId(event: UnsignedEvent): EventId {
  return bytesToHex(sha256(utf8ToBytes(serializeEvent(event)))) as EventId;
}
