import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import * as nip44 from 'nostr-tools/nip44';
import { generateSecretKey, getPublicKey, type NostrEvent } from 'nostr-tools/pure';
import { KIND_NIP46 } from '@frostbunker/shared/nostr';
import type { XOnlyPubkey } from '@frostbunker/shared/protocol';
import { initEventSigner } from '@frostbunker/shared/nostr';
import type { Failpoints } from '@frostbunker/shared/config';
import { VetoError } from '@frostbunker/shared/errors';
import { AclAdmin } from '../../src/acl-store/acl-admin.js';
import { AclStore } from '../../src/acl-store/acl-store.js';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { TokenStore } from '../../src/acl-store/token-store.js';
import { ApprovalDesk } from '../../src/approvals/approval-desk.js';
import { ApprovalStore } from '../../src/approvals/approval-store.js';
import { ApprovalWaiter } from '../../src/approvals/approval-waiter.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { AclGate } from '../../src/nip46/acl-gate.js';
import { Nip46Endpoint } from '../../src/nip46/endpoint.js';
import { FloodGuard } from '../../src/nip46/flood-guard.js';
import { ReplayStore } from '../../src/acl-store/replay-store.js';

export const silent = { debug() {}, info() {}, warn() {}, error() {}, child() { return silent; } };

/**
 * One NIP-46 endpoint over a real SQLite ACL (with the persistent replay store), an injected clock
 * and a pool that records replies; every signature request counts as one signing session.
 */
export async function endpointHarness(options: { failpoints?: Failpoints } = {}) {
  await initEventSigner();
  const db = openAclDatabase(join(mkdtempSync(join(tmpdir(), 'frostbunker-flood-')), 'acl.db'));
  const clock = { ms: 1_800_000_000_000 };
  const nowSec = () => Math.floor(clock.ms / 1000);
  const audit = new AuditLog(db, { nowSec });
  const acl = new AclStore(db, { nowSec, ...(options.failpoints ? { failpoints: options.failpoints } : {}) });
  const tokens = new TokenStore({ db, audit, identity: 'default', nowSec });
  const approvals = new ApprovalStore({ db, audit, nowSec });
  const transportSecret = generateSecretKey();
  const transportPubkey = getPublicKey(transportSecret);
  const published: NostrEvent[] = [];
  let decryptAttempts = 0;
  const guard = new FloodGuard({ nowMs: () => clock.ms });
  let signingSessions = 0;
  /** While set, a signing request hangs until released (a process that dies mid-round). */
  let hold: Promise<void> | undefined;
  /** While true, every signing round ends in a share node's veto. */
  let vetoAll = false;
  /** One coordinator process's endpoint over the shared database; `restart` builds the next one. */
  const build = () => {
    const replays = new ReplayStore(db, { windowSec: 360, nowSec, answerFlushMs: 1 });
    return new Nip46Endpoint({
      pool: { subscribe: () => ({ close() {} }) as never, publish: async (event) => void published.push(event) as never },
      transportSecretKey: transportSecret,
      requestDedupe: {
        firstSighting: (key, scheme) => replays.firstSighting(`default:${key}`, scheme ?? null),
        answered: (key) => replays.answered(`default:${key}`),
        takeInterrupted: () => replays.takeInterrupted('default:').map(({ key, scheme }) => ({ key: key.slice('default:'.length), scheme })),
      },
      isKnownClient: (pubkey) => {
        decryptAttempts++; // called exactly once per event that got past dedupe, before any ECDH
        return acl.isKnownClient('default', pubkey);
      },
      floodGuard: guard,
      logger: silent as never,
      nowMs: () => clock.ms,
      context: {
        userPubkey: '2'.repeat(64) as XOnlyPubkey,
        relays: [],
        acl: new AclGate({ identity: 'default', store: acl, tokens }),
        approvals: new ApprovalDesk({ identity: 'default', store: approvals, waiter: new ApprovalWaiter({ store: approvals }), acl, urlFor: (id) => id, timeoutSec: 60 }),
        sign: async (event) => {
          signingSessions++;
          if (vetoAll) throw new VetoError('node-1', 'denied_kind: kind 1 is denied');
          await hold;
          return { ...event, id: randomBytes(32).toString('hex'), sig: 's'.repeat(128) };
        },
        encryption: { nip44Encrypt: () => '', nip44Decrypt: () => '', nip04Encrypt: () => '', nip04Decrypt: () => '' },
      },
    });
  };
  const endpoint = build();
  const admin = new AclAdmin({ db, audit, identity: 'default', nowSec });

  /** A client with its own key; `request` builds a real NIP-44 kind-24133 event at the clock's time. */
  const client = () => {
    const secret = generateSecretKey();
    const pubkey = getPublicKey(secret);
    const key = nip44.getConversationKey(secret, transportPubkey);
    let seq = 0;
    return {
      pubkey,
      request: (method: string, params: string[]): NostrEvent => ({
        id: randomBytes(32).toString('hex'),
        pubkey,
        kind: KIND_NIP46,
        created_at: Math.floor(clock.ms / 1000),
        tags: [['p', transportPubkey]],
        content: nip44.encrypt(JSON.stringify({ id: `${pubkey.slice(0, 6)}-${++seq}`, method, params }), key),
        sig: '',
      }),
      replies: () => published.filter((e) => e.tags.some((t) => t[0] === 'p' && t[1] === pubkey)).map((e) => JSON.parse(nip44.decrypt(e.content, key)) as { result: string; error?: string }),
    };
  };
  /** Junk from a fresh key: costs the endpoint an ECDH if it tries to decrypt it. */
  const junk = (): NostrEvent => ({
    id: randomBytes(32).toString('hex'),
    pubkey: getPublicKey(generateSecretKey()),
    kind: KIND_NIP46,
    created_at: Math.floor(clock.ms / 1000),
    tags: [['p', transportPubkey]],
    content: randomBytes(120).toString('base64'),
    sig: '',
  });
  const connectWithToken = async (c: ReturnType<typeof client>, perms: string) => {
    const { secret } = tokens.create({ perms, ttlSec: 600, label: 'flood', actor: 'test' });
    await endpoint.handleEvent(c.request('connect', [transportPubkey, secret]));
  };
  return {
    db,
    clock,
    endpoint,
    guard,
    admin,
    published,
    client,
    junk,
    connectWithToken,
    decrypts: () => decryptAttempts,
    signingSessions: () => signingSessions,
    vetoSigning: (on: boolean) => void (vetoAll = on),
    /** From now on, signing requests hang (the process will "die" mid-round). */
    holdSigning: () => void (hold = new Promise<void>(() => undefined)),
    /** A new process over the same database: it starts and finishes what the old one left. */
    restart: () => {
      hold = undefined;
      const next = build();
      next.start();
      return next;
    },
  };
}

