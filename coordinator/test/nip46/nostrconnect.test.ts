import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decideVerdict } from '../../src/acl/verdict.js';
import { AclStore } from '../../src/acl-store/acl-store.js';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { TokenStore } from '../../src/acl-store/token-store.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { parseNostrConnectUri } from '../../src/nip46/nostrconnect.js';

const clientPubkey = 'ab'.repeat(32);
const uri = (query: string) => `nostrconnect://${clientPubkey}?${query}`;

describe('parseNostrConnectUri', () => {
  it('reads the client pubkey, relays, secret, requested perms and name', () => {
    const offer = parseNostrConnectUri(uri('relay=wss%3A%2F%2Frelay.example.com&relay=ws://127.0.0.1:7777&secret=s3cr3t&perms=sign_event%3A1%2Cnip44_encrypt&name=My%20App'));
    expect(offer).toEqual({
      clientPubkey,
      relays: ['wss://relay.example.com', 'ws://127.0.0.1:7777'],
      secret: 's3cr3t',
      requestedPerms: 'nip44_encrypt,sign_event:1',
      name: 'My App',
    });
  });

  it('keeps only the perm items that parse (they are a request, shown, never trusted)', () => {
    expect(parseNostrConnectUri(uri('relay=wss://r.example&secret=x&perms=sign_event:1,launch_missiles')).requestedPerms).toBe('sign_event:1');
  });

  it.each([
    ['another scheme', 'bunker://' + clientPubkey + '?relay=wss://r.example&secret=x', /start with nostrconnect/],
    ['a short pubkey', 'nostrconnect://abcd?relay=wss://r.example&secret=x', /64 hex/],
    ['no relay', uri('secret=x'), /no relay/],
    ['an http relay', uri('relay=https://r.example&secret=x'), /not a ws/],
    ['no secret', uri('relay=wss://r.example'), /secret= is required/],
    ['too many relays', uri(Array.from({ length: 9 }, (_, i) => `relay=wss://r${i}.example`).join('&') + '&secret=x'), /at most 8 relays/],
    ['something else entirely', 'not a uri', /not a URI/],
  ])('refuses %s with a clear error', (_name, text, message) => {
    expect(() => parseNostrConnectUri(text)).toThrow(message);
  });
});

describe('TokenStore.acceptNostrConnect', () => {
  function setup() {
    const db = openAclDatabase(join(mkdtempSync(join(tmpdir(), 'frostbunker-nostrconnect-')), 'acl.db'));
    const nowSec = () => 1_800_000_000;
    const audit = new AuditLog(db, { nowSec });
    const tokens = new TokenStore({ db, audit, identity: 'default', nowSec });
    const store = new AclStore(db, { nowSec });
    const verdict = (method: 'sign_event' | 'nip44_encrypt', kind?: number) =>
      decideVerdict(store.loadRows('default', clientPubkey), { clientPubkey, method, ...(kind === undefined ? {} : { kind }) }, nowSec()).decision;
    return { db, audit, tokens, verdict };
  }

  it("grants the operator's perms, not the client's request, and audits both", () => {
    const { tokens, audit, verdict } = setup();
    tokens.acceptNostrConnect({ clientPubkey, perms: 'sign_event:1', requestedPerms: 'sign_event,nip44_encrypt', label: 'My App', actor: 'cli:alice' });
    expect(verdict('sign_event', 1)).toBe('allow');
    expect(verdict('sign_event', 7)).toBe('ask');
    expect(verdict('nip44_encrypt')).toBe('ask');
    expect(audit.tail(1)[0]).toMatchObject({
      actor: 'cli:alice',
      action: 'nostrconnect.accept',
      after: expect.objectContaining({ perms: 'sign_event:1', requestedPerms: 'sign_event,nip44_encrypt' }),
    });
  });

  it('lets logout take the accepted perms away, like a redeemed token', () => {
    const { tokens, verdict } = setup();
    tokens.acceptNostrConnect({ clientPubkey, perms: 'sign_event:1', label: 'x', actor: 'cli:alice' });
    tokens.logout(clientPubkey);
    expect(verdict('sign_event', 1)).toBe('ask');
  });
});
