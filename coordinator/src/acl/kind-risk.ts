import {
  KIND_CLIENT_AUTH,
  KIND_CONTACTS,
  KIND_DELETION,
  KIND_ENCRYPTION_KEY,
  KIND_HTTP_AUTH,
  KIND_METADATA,
  KIND_NIP46,
  KIND_RELAY_LIST,
} from '@frostbunker/shared/nostr';

/**
 * Kinds that can hijack or wipe an identity (DESIGN.md Live ACL, RELIABILITY.md T15): profile,
 * contacts, deletions, relay list, encryption-key announcements (NIP-4e 10044, 4454, 4455),
 * relay AUTH, HTTP auth, NIP-46 itself, and wallet kinds (NIP-47 23194-23197, NIP-60 7374-7376,
 * 17375, NIP-61 10019, NIP-57 zap request 9734).
 */
export const SENSITIVE_KINDS: ReadonlySet<number> = new Set([
  KIND_METADATA,
  KIND_CONTACTS,
  KIND_DELETION,
  KIND_RELAY_LIST,
  KIND_ENCRYPTION_KEY,
  4454,
  4455,
  KIND_CLIENT_AUTH,
  KIND_HTTP_AUTH,
  KIND_NIP46,
  7374,
  7375,
  7376,
  9734,
  10019,
  17375,
  23194,
  23195,
  23196,
  23197,
]);

export type KindRisk = 'ordinary' | 'sensitive';

/** Classifies a kind; sensitive kinds are never signed without an explicit grant. */
export function classifyKind(kind: number): KindRisk {
  return SENSITIVE_KINDS.has(kind) ? 'sensitive' : 'ordinary';
}
