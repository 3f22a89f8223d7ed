import type { CreatedToken, TokenStore } from './acl-store/token-store.js';

/** Without explicit perms: what a typical client needs, sensitive kinds excluded (they need a grant). */
export const DEFAULT_TOKEN_PERMS = 'get_public_key,ping,switch_relays,logout,sign_event,nip44_encrypt,nip44_decrypt';

/** NIP-46 `bunker://<remote-signer-pubkey>?relay=…&secret=…` connection URL. */
export function buildBunkerUrl(transportPubkey: string, relays: readonly string[], secret: string): string {
  const query = new URLSearchParams();
  for (const relay of relays) query.append('relay', relay);
  query.set('secret', secret);
  return `bunker://${transportPubkey}?${query.toString()}`;
}

export interface ConnectionToken extends CreatedToken {
  bunkerUrl: string;
}

/**
 * A one-time connection token (audited by TokenStore) and the bunker:// URL that carries it: what
 * `pnpm frostbunker token create` prints and `POST …/connection-tokens` returns.
 */
export function createConnectionToken(
  tokens: TokenStore,
  options: { transportPubkey: string; relays: readonly string[]; perms?: string; ttlSec: number; label: string; actor: string },
): ConnectionToken {
  const token = tokens.create({ perms: options.perms ?? DEFAULT_TOKEN_PERMS, ttlSec: options.ttlSec, label: options.label, actor: options.actor });
  return { ...token, bunkerUrl: buildBunkerUrl(options.transportPubkey, options.relays, token.secret) };
}
