import { ProtocolError } from '@frostbunker/shared/errors';
import { relayUrlSchema } from '@frostbunker/shared/protocol';
import { safeParsePerms, formatPerms } from '../acl/perms.js';

/** A client's `nostrconnect://` offer (NIP-46, client-initiated connection). */
export interface NostrConnectOffer {
  clientPubkey: string;
  relays: string[];
  /** Chosen by the client; the bunker proves it read the URI by answering connect with it. */
  secret: string;
  /** What the client asks for, in NIP-46 perms grammar: shown to the operator, never trusted. */
  requestedPerms?: string;
  name?: string;
  url?: string;
}

const MAX_URI_CHARS = 8_192;
const MAX_RELAYS = 8;
const HEX64 = /^[0-9a-f]{64}$/;

/**
 * Parses `nostrconnect://<client-pubkey>?relay=…&secret=…[&perms=…][&name=…]`. Throws a
 * PROTOCOL_INVALID error saying which part is wrong; perm items that do not parse are dropped
 * (the perms are only a request), everything else must be well formed.
 */
export function parseNostrConnectUri(text: string): NostrConnectOffer {
  if (typeof text !== 'string' || text.length > MAX_URI_CHARS) throw invalid(`expected a nostrconnect:// URI of at most ${MAX_URI_CHARS} characters`);
  let uri: URL;
  try {
    uri = new URL(text.trim());
  } catch {
    throw invalid('not a URI');
  }
  if (uri.protocol !== 'nostrconnect:') throw invalid('expected it to start with nostrconnect://');
  const clientPubkey = uri.hostname.toLowerCase();
  if (!HEX64.test(clientPubkey)) throw invalid('the client pubkey after nostrconnect:// must be 64 hex characters');
  const relays = [...new Set(uri.searchParams.getAll('relay').map((r) => r.trim()))];
  if (relays.length === 0) throw invalid('no relay= given: the bunker would not know where the client listens');
  if (relays.length > MAX_RELAYS) throw invalid(`at most ${MAX_RELAYS} relays`);
  for (const relay of relays) {
    if (!relayUrlSchema.safeParse(relay).success) throw invalid(`relay ${JSON.stringify(relay.slice(0, 80))} is not a ws:// or wss:// URL`);
  }
  const secret = uri.searchParams.get('secret') ?? '';
  // NIP-46: the secret is required, so a client cannot be answered by a bunker it did not ask.
  if (secret.length === 0 || secret.length > 256) throw invalid('secret= is required (1..256 characters)');
  const offer: NostrConnectOffer = { clientPubkey, relays, secret };
  const perms = uri.searchParams.get('perms');
  if (perms) {
    const parsed = safeParsePerms(perms);
    offer.requestedPerms = formatPerms(parsed.ok ? parsed.perms : parsed.recognized);
  }
  const name = uri.searchParams.get('name');
  if (name) offer.name = name.slice(0, 64);
  const site = uri.searchParams.get('url');
  if (site) offer.url = site.slice(0, 256);
  return offer;
}

function invalid(message: string): ProtocolError {
  return new ProtocolError('PROTOCOL_INVALID', `nostrconnect URI: ${message}`);
}
