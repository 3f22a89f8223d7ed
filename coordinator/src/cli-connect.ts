import { userInfo } from 'node:os';
import { hexToBytes } from '@frostbunker/shared/crypto';
import { initEventSigner } from '@frostbunker/shared/nostr';
import { RelayPool } from '@frostbunker/shared/transport';
import type { AclDatabase } from './acl-store/database.js';
import { AuditLog } from './audit/audit-log.js';
import { acceptNostrConnectUri } from './nip46/nostrconnect-accept.js';
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

/** `frostbunker connect <nostrconnect://…>`: prints what the client asks for, then accepts it. */
export async function acceptNostrConnect(options: AcceptNostrConnectOptions): Promise<number> {
  const offer = parseNostrConnectUri(options.uri);
  options.print(`client ${offer.name ?? '(no name)'} ${offer.clientPubkey}`);
  options.print(`  asks for: ${offer.requestedPerms ?? '(nothing named)'} (shown only; never granted as asked)`);
  await initEventSigner();
  let pool: RelayPool | undefined;
  try {
    const accepted = await acceptNostrConnectUri({
      ...options,
      transportSecretKey: hexToBytes(options.transportSecretKey, 32, 'transportSecretKey'),
      audit: new AuditLog(options.db, { nowSec: options.nowSec }),
      actor: `cli:${userInfo().username}`,
      publish: async (event, relays) => {
        pool = new RelayPool({ urls: relays, publishTimeoutMs: 10_000, logger: () => undefined });
        return (await pool.publish(event)).acceptedBy;
      },
    });
    options.print(`  granted:  ${accepted.perms}`);
    options.print(`connected (${accepted.tokenId}): the client was answered on ${accepted.answeredOn.join(', ')}`);
    return 0;
  } catch (error) {
    if (pool === undefined) throw error;
    options.print(`the grants are in place, but no relay of the client took the answer: ${(error as Error).message}`);
    return 1;
  } finally {
    await pool?.close();
  }
}
