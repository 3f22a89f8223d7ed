import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { computeEventId, dealerKeygen, groupXOnlyKey, type SigningCommitments } from '@frostbunker/shared/crypto';
import { silentLogger } from '@frostbunker/shared/logger';
import {
  computeGroupId,
  fromNodeMessageSchema,
  toNodeMessageSchema,
  type FromNodeMessage,
  type SessionId,
  type ToNodeMessage,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { createMemoryNetwork } from '@frostbunker/shared/transport';
import { NodeLog } from '../src/node-log.js';
import { NodeState } from '../src/node-state.js';
import { ShareSigner } from '../src/signer/share-signer.js';
import { serveShareSigner } from '../src/share-node-service.js';
import { DEFAULT_VETO_POLICY } from '../src/veto/policy-schema.js';

/**
 * RELIABILITY.md G9: the coordinator is the attacker. It speaks the node protocol directly to two
 * real share signers (production wiring over the in-memory transport) and tries every trick; a
 * ledger then checks that no nonce commitment ever backed two partial signatures.
 */
function createTarget() {
  const dir = mkdtempSync(join(tmpdir(), 'frostbunker-g9-'));
  const nowSec = () => Math.floor(Date.now() / 1000);
  const network = createMemoryNetwork();
  const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3 });
  const coordinatorKey = randomBytes(32);
  const coordinatorPubkey = getPublicKey(coordinatorKey) as XOnlyPubkey;
  const nodeKeys = shares.map(() => randomBytes(32));
  const members = shares.map((s, i) => ({ identifier: s.identifier, nodePubkey: getPublicKey(nodeKeys[i]!), label: `node-${i + 1}` }));
  const groupId = computeGroupId({ ...group, members });
  const userPubkey = groupXOnlyKey(group);

  const replies: { from: string; message: FromNodeMessage }[] = [];
  const attacker = network.transport<FromNodeMessage, ToNodeMessage | Record<string, unknown>>({
    secretKey: coordinatorKey,
    schema: fromNodeMessageSchema,
    isKnownSender: () => true,
  });
  attacker.onMessage(({ senderPubkey, message }) => void replies.push({ from: senderPubkey, message }));

  const signers = shares.slice(0, 2).map((share, i) => {
    const signer = new ShareSigner({
      groupId,
      epoch: 0,
      group,
      groupPubkey: userPubkey,
      share,
      logger: silentLogger,
      nowSec,
      monotonicMs: () => performance.now(),
      policy: () => ({ policy: { ...DEFAULT_VETO_POLICY, rateLimits: { perMinute: 1e6, perHour: 1e6, perDay: 1e6 } }, rules: [] }),
      log: NodeLog.open(join(dir, `node-${i + 1}`, 'node-log.jsonl'), { nowSec }),
      state: new NodeState(join(dir, `node-${i + 1}`, 'state.json')),
      sendLater: () => {},
      maxPendingSessions: 64,
    });
    const transport = network.transport<ToNodeMessage, FromNodeMessage>({
      secretKey: nodeKeys[i]!,
      schema: toNodeMessageSchema,
      isKnownSender: (pubkey) => pubkey === coordinatorPubkey,
    });
    serveShareSigner({ transport, signer, logger: silentLogger });
    return { signer, transport, pubkey: members[i]!.nodePubkey as XOnlyPubkey };
  });

  const event = (content: string, kind = 1) => ({ pubkey: userPubkey, created_at: nowSec(), kind, tags: [], content });
  const header = (sessionId: string) => ({ v: 1 as const, groupId, epoch: 0, sessionId: sessionId as SessionId });
  const newSession = () => randomBytes(16).toString('hex');

  /** Sends to node `i` (0-based) and returns its reply, or undefined when it answers nothing. */
  async function exchange(i: number, message: ToNodeMessage | Record<string, unknown>): Promise<FromNodeMessage | undefined> {
    const before = replies.length;
    await attacker.send(signers[i]!.pubkey, message);
    const spin = async () => {
      for (let n = 0; n < 20 && replies.length === before; n++) await new Promise((r) => setImmediate(r));
    };
    await spin();
    // A reply waits for the node log's fsync (issue 9); once that is done it is out within a few turns.
    if (replies.length === before) {
      await signers[i]!.signer.logged();
      await spin();
    }
    return replies.slice(before).find((r) => r.from === signers[i]!.pubkey)?.message;
  }

  return { signers, event, header, newSession, exchange, replies, groupId, userPubkey, network, attacker, nodeKeys };
}

describe('share node against a malicious coordinator (G9)', () => {
  it('refuses each attack class with a reason code, or drops what the protocol cannot express', async () => {
    const t = createTarget();
    const kind0 = t.event('{"name":"mallory"}', 0);
    const attacks: [string, () => ToNodeMessage | Record<string, unknown>, string | 'dropped'][] = [
      ['id differs from the message', () => ({ ...t.header(t.newSession()), type: 'round1_request', event: t.event('a'), eventId: 'f'.repeat(64) }), 'event_mismatch'],
      ['kind-1 label over kind-0 content', () => ({ ...t.header(t.newSession()), type: 'round1_request', event: { ...kind0, kind: 1 }, eventId: computeEventId(kind0) }), 'event_mismatch'],
      ['pubkey is not the group key', () => { const e = { ...t.event('a'), pubkey: 'e'.repeat(64) }; return { ...t.header(t.newSession()), type: 'round1_request', event: e, eventId: computeEventId(e) }; }, 'pubkey_mismatch'],
      ['unknown group', () => { const e = t.event('a'); return { ...t.header(t.newSession()), groupId: 'b'.repeat(64), type: 'round1_request', event: e, eventId: computeEventId(e) }; }, 'unknown_group'],
      ['stale epoch', () => { const e = t.event('a'); return { ...t.header(t.newSession()), epoch: 7, type: 'round1_request', event: e, eventId: computeEventId(e) }; }, 'wrong_epoch'],
      ['a tweak smuggled into round 1', () => { const e = t.event('a'); return { ...t.header(t.newSession()), type: 'round1_request', event: e, eventId: computeEventId(e), tweaks: ['00'.repeat(32)] }; }, 'dropped'],
      ['an ECDH request', () => ({ ...t.header(t.newSession()), type: 'ecdh', pubkey: '02'.repeat(33) }), 'dropped'],
      ['a message from another protocol version', () => { const e = t.event('a'); return { ...t.header(t.newSession()), v: 2, type: 'round1_request', event: e, eventId: computeEventId(e) }; }, 'dropped'],
      ['an oversized event', () => { const e = t.event('x'.repeat(50_000)); return { ...t.header(t.newSession()), type: 'round1_request', event: e, eventId: computeEventId(e) }; }, 'dropped'],
    ];
    for (const [name, build, expected] of attacks) {
      for (let round = 0; round < 10; round++) {
        let reply: FromNodeMessage | undefined;
        try {
          reply = await t.exchange(0, build());
        } catch {
          reply = undefined; // the sender's own transport refused to send it (oversized)
        }
        if (expected === 'dropped') expect(reply, name).toBeUndefined();
        else expect(reply, name).toMatchObject({ type: 'refusal', code: expected });
      }
    }
    expect(t.signers[0]!.signer.pendingSessions).toBe(0);
    expect(t.signers[0]!.transport.dropped().bad_schema).toBe(30);
  });

  it('drops a forged sender before any decryption and answers nothing', async () => {
    const t = createTarget();
    const impostor = t.network.transport<FromNodeMessage, ToNodeMessage>({ secretKey: randomBytes(32), schema: fromNodeMessageSchema, isKnownSender: () => true });
    const e = t.event('a');
    await impostor.send(t.signers[0]!.pubkey, { ...t.header(t.newSession()), type: 'round1_request', event: e, eventId: computeEventId(e) });
    await new Promise((r) => setTimeout(r, 20));
    expect(t.signers[0]!.transport.dropped().unknown_sender).toBe(1);
    expect(t.signers[0]!.signer.pendingSessions).toBe(0);
  });

  it('signs at most once per commitment over 2,000 sessions with replays and relabels interleaved', async () => {
    const t = createTarget();
    const started = performance.now();
    const rssBefore = process.memoryUsage().rss;
    const signedWith = new Map<string, number>(); // commitment -> partial signatures it backed
    const committed: { sessionId: string; eventId: string; own: SigningCommitments; other: SigningCommitments }[] = [];
    let shares = 0;
    let refusals = 0;
    const SESSIONS = 2_000;
    for (let n = 0; n < SESSIONS; n++) {
      const roll = n % 10;
      if (roll < 6 || committed.length === 0) {
        // Fresh session: both nodes commit; sometimes the attacker never sends round 2.
        const sessionId = t.newSession();
        const e = t.event(`note ${n}`);
        const r1 = { ...t.header(sessionId), type: 'round1_request', event: e, eventId: computeEventId(e) } as ToNodeMessage;
        const [a, b] = [t.signers[0]!.signer.handle(r1), t.signers[1]!.signer.handle(r1)];
        if (a.type !== 'round1_commitments' || b.type !== 'round1_commitments') throw new Error(`honest round 1 refused: ${JSON.stringify(a)}`);
        committed.push({ sessionId, eventId: a.eventId, own: a.commitments, other: b.commitments });
        if (roll < 4) continue;
      }
      // Round 2 for a random earlier session, possibly replayed, possibly for another event.
      // Mostly recent sessions (still pending), sometimes ancient ones (expired or evicted).
      const span = Math.random() < 0.8 ? Math.min(48, committed.length) : committed.length;
      const target = committed[committed.length - 1 - Math.floor(Math.random() * span)]!;
      const relabel = roll === 8;
      const otherEvent = computeEventId(t.event(`relabel ${n}`));
      const reply = t.signers[0]!.signer.handle({
        ...t.header(target.sessionId),
        type: 'round2_request',
        eventId: (relabel ? otherEvent : target.eventId) as never,
        commitments: [target.own, target.other],
      });
      if (reply.type === 'round2_share') {
        shares++;
        const key = `${target.own.hiding}${target.own.binding}`;
        signedWith.set(key, (signedWith.get(key) ?? 0) + 1);
      } else {
        refusals++;
        // A replayed session id in round 1 is refused while remembered; once the bounded seen-set
        // has forgotten it, it may only ever get fresh nonces, never the old commitment back.
        const e = t.event('replay');
        const replayed = t.signers[0]!.signer.handle({ ...t.header(target.sessionId), type: 'round1_request', event: e, eventId: computeEventId(e) } as ToNodeMessage);
        if (replayed.type === 'round1_commitments') expect(replayed.commitments).not.toEqual(target.own);
        else expect(replayed).toMatchObject({ type: 'refusal' });
      }
    }
    const reused = [...signedWith.values()].filter((count) => count > 1).length;
    console.log(`[figure] G9 ledger: ${SESSIONS} sessions, ${shares} partial signatures, ${refusals} refused round-2 attempts, ${reused} commitments used twice, ${(SESSIONS / ((performance.now() - started) / 1000)).toFixed(0)} sessions/s`);
    // RELIABILITY.md G9 asks for node RSS growth < 50 MB: printed as a figure (this worker's RSS,
    // the signer's state being bounded by the assertion on pendingSessions below).
    console.log(`[figure] G9 RSS growth over ${SESSIONS} sessions: ${((process.memoryUsage().rss - rssBefore) / 2 ** 20).toFixed(1)} MiB`);
    expect(shares).toBeGreaterThan(300);
    expect(refusals).toBeGreaterThan(100);
    expect(reused).toBe(0);
    expect(t.signers[0]!.signer.pendingSessions).toBeLessThanOrEqual(64);
  }, 120_000);
});
