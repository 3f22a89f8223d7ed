import type { UnsignedEventMessage } from '@frostbunker/shared/protocol';
import type { VetoContext } from '../../src/veto/policy.js';

/** Test fixtures shared by the veto tests: a fixed clock and builders with quiet defaults. */
export const NOW_SEC = 1_800_000_000; // 2027-01-15 08:00:00 UTC
export const GROUP_PUBKEY = 'a'.repeat(64);

export function hexKey(n: number): string {
  return n.toString(16).padStart(64, '0');
}

export function makeEvent(overrides: Partial<UnsignedEventMessage> = {}): UnsignedEventMessage {
  return { pubkey: GROUP_PUBKEY, created_at: NOW_SEC, kind: 1, tags: [], content: 'hello', ...overrides };
}

export function makeCtx(overrides: Partial<VetoContext> = {}): VetoContext {
  return { nowSec: NOW_SEC, approvedCounts: { lastMinute: 0, lastHour: 0, lastDay: 0 }, ...overrides };
}

/** `count` distinct follows, hexKey(0) .. hexKey(count - 1). */
export function follows(count: number, from = 0): string[] {
  return Array.from({ length: count }, (_, i) => hexKey(from + i));
}

export function pTags(pubkeys: readonly string[]): string[][] {
  return pubkeys.map((pubkey) => ['p', pubkey]);
}
