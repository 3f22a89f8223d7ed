import {
  KIND_CASHU_HISTORY,
  KIND_CASHU_QUOTE,
  KIND_CASHU_TOKEN,
  KIND_CASHU_WALLET,
  KIND_CLIENT_AUTH,
  KIND_CLIENT_KEY_ANNOUNCEMENT,
  KIND_CONTACTS,
  KIND_DELETION,
  KIND_ENCRYPTION_KEY,
  KIND_ENCRYPTION_KEY_SHARE,
  KIND_HTTP_AUTH,
  KIND_METADATA,
  KIND_NIP46,
  KIND_NUTZAP_INFO,
  KIND_NWC_NOTIFICATION,
  KIND_NWC_NOTIFICATION_NIP04,
  KIND_NWC_REQUEST,
  KIND_NWC_RESPONSE,
  KIND_RELAY_LIST,
  KIND_ZAP_REQUEST,
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
  KIND_CLIENT_KEY_ANNOUNCEMENT,
  KIND_ENCRYPTION_KEY_SHARE,
  KIND_CLIENT_AUTH,
  KIND_HTTP_AUTH,
  KIND_NIP46,
  KIND_CASHU_QUOTE,
  KIND_CASHU_TOKEN,
  KIND_CASHU_HISTORY,
  KIND_ZAP_REQUEST,
  KIND_NUTZAP_INFO,
  KIND_CASHU_WALLET,
  KIND_NWC_REQUEST,
  KIND_NWC_RESPONSE,
  KIND_NWC_NOTIFICATION_NIP04,
  KIND_NWC_NOTIFICATION,
]);

export type KindRisk = 'ordinary' | 'sensitive';

/** Classifies a kind; sensitive kinds are never signed without an explicit grant. */
export function classifyKind(kind: number): KindRisk {
  return SENSITIVE_KINDS.has(kind) ? 'sensitive' : 'ordinary';
}
