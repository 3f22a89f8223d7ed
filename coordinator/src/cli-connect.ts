import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { ConfigError } from '@frostbunker/shared/errors';
import { createNip44Codec, finalizeEvent, initEventSigner, KIND_NIP46 } from '@frostbunker/shared/nostr';
import { RelayPool } from '@frostbunker/shared/transport';
import { hexToBytes } from '@frostbunker/shared/crypto';
import type { AclDatabase } from './acl-store/database.js';
import { TokenStore } from './acl-store/token-store.js';
import { AuditLog } from './audit/audit-log.js';
import { parseNostrConnectUri } from './nip46/nostrconnect.js';

export interface AcceptNostrConnectOptions {
  uri: string;
  /** What the operator grants; never the client's own request. */
  perms: string;
  grantTtlSec?: number;
  identity: string;
  transportSecretKey: string;
  /** The relays the coordinator listens on (config.json). */
  bunkerRelays: readonly string[];
  db: AclDatabase;
  nowSec: () => number;
  print: (line: string) => void;
}

const normalize = (url: string) => url.replace(/\/+$/, '');

/**
 * `frostbunker connect <nostrconnect://…>`: NIP-46 client-initiated connection. The operator's
 * perms become the client's grants (audited), then the identity's transport key sends the client a
 * connect response whose result is the client's secret, on the client's relays. The coordinator
 * must listen on one of them, or the client's requests would never arrive: refused up front.
 */
export async function acceptNostrConnect(options: AcceptNostrConnectOptions): Promise<number> {
  const offer = parseNostrConnectUri(options.uri);
  const ours = new Set(options.bunkerRelays.map(normalize));
  const common = offer.relays.filter((relay) => ours.has(normalize(relay)));
  if (common.length === 0) {
    throw new ConfigError(
      'relay',
      `the client listens on ${offer.relays.join(', ')} but this bunker on ${options.bunkerRelays.join(', ')}: add one of the client's relays to the coordinator's config.json "relays", restart it, and accept again`,
    );
  }
  options.print(`client ${offer.name ?? '(no name)'} ${offer.clientPubkey}`);
  options.print(`  asks for: ${offer.requestedPerms ?? '(nothing named)'} (shown only; never granted as asked)`);

  const nowSec = options.nowSec;
  const tokens = new TokenStore({ db: options.db, audit: new AuditLog(options.db, { nowSec }), identity: options.identity, nowSec });
  const accepted = tokens.acceptNostrConnect({
    clientPubkey: offer.clientPubkey,
    perms: options.perms,
    ...(offer.requestedPerms === undefined ? {} : { requestedPerms: offer.requestedPerms }),
    label: offer.name ?? 'nostrconnect',
    actor: `cli:${userInfo().username}`,
    ...(options.grantTtlSec === undefined ? {} : { grantTtlSec: options.grantTtlSec }),
  });
  options.print(`  granted:  ${accepted.perms}`);

  await initEventSigner();
  const secretKey = hexToBytes(options.transportSecretKey, 32, 'transportSecretKey');
  // INTEROP.md: "the signer sends a connect *response* whose result is the client's secret".
  const content = createNip44Codec(secretKey).encrypt(offer.clientPubkey, JSON.stringify({ id: randomBytes(8).toString('hex'), result: offer.secret }));
  const event = finalizeEvent({ kind: KIND_NIP46, created_at: nowSec(), tags: [['p', offer.clientPubkey]], content }, secretKey);
  const pool = new RelayPool({ urls: offer.relays, publishTimeoutMs: 10_000, logger: () => undefined });
  try {
    const published = await pool.publish(event);
    options.print(`connected (${accepted.tokenId}): the client was answered on ${published.acceptedBy.join(', ')}`);
    return 0;
  } catch (error) {
    options.print(`the grants are in place (${accepted.tokenId}), but no relay of the client took the answer: ${(error as Error).message}`);
    return 1;
  } finally {
    await pool.close();
  }
}
