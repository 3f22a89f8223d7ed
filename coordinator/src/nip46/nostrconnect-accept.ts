import { randomBytes } from 'node:crypto';
import { ConfigError } from '@frostbunker/shared/errors';
import { createNip44Codec, finalizeEvent, KIND_NIP46 } from '@frostbunker/shared/nostr';
import type { NostrEvent } from 'nostr-tools/pure';
import type { AclDatabase } from '../acl-store/database.js';
import { TokenStore } from '../acl-store/token-store.js';
import type { AuditLog } from '../audit/audit-log.js';
import { parseNostrConnectUri, type NostrConnectOffer } from './nostrconnect.js';

export interface AcceptedNostrConnect {
  offer: NostrConnectOffer;
  tokenId: string;
  /** What the client was granted (canonical perms), never its own request. */
  perms: string;
  /** The relays that took the connect response. */
  answeredOn: string[];
}

const normalize = (url: string) => url.replace(/\/+$/, '');

/**
 * NIP-46 client-initiated connection, for the CLI and the admin API alike: checks that the
 * bunker listens on one of the client's relays (or the client's requests would never arrive),
 * grants the operator's perms (audited), then answers the client's secret from the identity's
 * transport key ("the signer sends a connect *response* whose result is the client's secret").
 */
export async function acceptNostrConnectUri(options: {
  uri: string;
  perms: string;
  grantTtlSec?: number;
  identity: string;
  transportSecretKey: Uint8Array;
  bunkerRelays: readonly string[];
  db: AclDatabase;
  audit: AuditLog;
  nowSec: () => number;
  actor: string;
  /** Publishes the connect response on the client's relays; resolves with those that took it. */
  publish: (event: NostrEvent, relays: readonly string[]) => Promise<string[]>;
}): Promise<AcceptedNostrConnect> {
  const offer = parseNostrConnectUri(options.uri);
  const ours = new Set(options.bunkerRelays.map(normalize));
  if (!offer.relays.some((relay) => ours.has(normalize(relay)))) {
    throw new ConfigError(
      'relay',
      `the client listens on ${offer.relays.join(', ')} but this bunker on ${options.bunkerRelays.join(', ')}: add one of the client's relays to the coordinator's config.json "relays", restart it, and accept again`,
    );
  }
  const tokens = new TokenStore({ db: options.db, audit: options.audit, identity: options.identity, nowSec: options.nowSec });
  const accepted = tokens.acceptNostrConnect({
    clientPubkey: offer.clientPubkey,
    perms: options.perms,
    ...(offer.requestedPerms === undefined ? {} : { requestedPerms: offer.requestedPerms }),
    label: offer.name ?? 'nostrconnect',
    actor: options.actor,
    ...(options.grantTtlSec === undefined ? {} : { grantTtlSec: options.grantTtlSec }),
  });
  const content = createNip44Codec(options.transportSecretKey).encrypt(offer.clientPubkey, JSON.stringify({ id: randomBytes(8).toString('hex'), result: offer.secret }));
  const event = finalizeEvent({ kind: KIND_NIP46, created_at: options.nowSec(), tags: [['p', offer.clientPubkey]], content }, options.transportSecretKey);
  const answeredOn = await options.publish(event, offer.relays);
  return { offer, tokenId: accepted.tokenId, perms: accepted.perms, answeredOn };
}
