import { describe, expect, it } from 'vitest';
import { aggregateSignature, computeEventId, createSigningPackage, hexToBytes, type SigningCommitments } from '@frostbunker/shared/crypto';
import { toNodeMessageSchema, type FromNodeMessage, type ToNodeMessage } from '@frostbunker/shared/protocol';
import type { VetoPolicy } from '../src/veto/policy-schema.js';
import { signerGroup } from './signer-group.js';

/** The signers of a 2-of-3 group, spoken to directly as a (possibly malicious) coordinator. */
function setup(node1Policy: Partial<VetoPolicy> = {}) {
  const g = signerGroup({ policy: (i) => (i === 0 ? node1Policy : {}) });
  const header = (sessionId?: string) => g.header(2, sessionId);

  function signRequest(e: ReturnType<typeof g.event>, commitments: SigningCommitments[], sessionId?: string, eventId?: string): ToNodeMessage {
    return { ...header(sessionId), type: 'sign_request', event: e, eventId: (eventId ?? computeEventId(e)) as never, commitments };
  }

  return { group: g.group, signers: g.signers, makeSigner: g.makeSigner, pool: g.pool, signRequest, event: g.event, header, later: g.later, userPubkey: g.userPubkey };
}

describe('share node, one-round signing (issue 9)', () => {
  it('signs with a pre-shared commitment: z_i from the signers, a vote from the other, and the signature verifies', () => {
    const t = setup();
    const [a, b] = [t.pool(0, 4)[0]!, t.pool(1, 4)[0]!];
    const e = t.event('hello');
    const request = t.signRequest(e, [a, b]);
    const replies = t.signers.map((s) => s.handle(request));
    expect(replies[0]).toMatchObject({ type: 'sign_share', v: 2, next: [expect.objectContaining({ identifier: a.identifier })] });
    expect(replies[1]).toMatchObject({ type: 'sign_share', v: 2 });
    expect(replies[2]).toMatchObject({ type: 'sign_vote', v: 2, eventId: computeEventId(e) });
    const pkg = createSigningPackage(hexToBytes(computeEventId(e)), [a, b]);
    const shares = Object.fromEntries(
      replies.slice(0, 2).map((r, i) => [[a, b][i]!.identifier, (r as Extract<FromNodeMessage, { type: 'sign_share' }>).signatureShare]),
    );
    expect(aggregateSignature(t.group, pkg, shares)).toMatch(/^[0-9a-f]{128}$/);
    // One used, one handed back in `next`: the pool size holds.
    expect(t.signers[0]!.pooledCommitments).toBe(4);
  });

  it('makes the next replacement commitment once the answer is out, and hands it out with the next share', async () => {
    const t = setup();
    const [a, b] = [t.pool(0, 2)[0]!, t.pool(1, 2)[0]!];
    expect(t.signers[0]!.handle(t.signRequest(t.event('one'), [a, b]))).toMatchObject({ type: 'sign_share' });
    expect(t.signers[0]!.preparedCommitments).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(t.signers[0]!.preparedCommitments).toBe(1);
    const [c, d] = [t.pool(0, 1)[0]!, t.pool(1, 1)[0]!];
    expect(t.signers[0]!.preparedCommitments).toBe(0);
    expect(t.signers[0]!.handle(t.signRequest(t.event('two'), [c, d]))).toMatchObject({ type: 'sign_share', next: [expect.objectContaining({ identifier: c.identifier })] });
  });

  it('refuses a commitment used before, with a new session id, and never signs twice with it', () => {
    const t = setup();
    const [a, b] = [t.pool(0, 2)[0]!, t.pool(1, 2)[0]!];
    expect(t.signers[0]!.handle(t.signRequest(t.event('one'), [a, b]))).toMatchObject({ type: 'sign_share' });
    expect(t.signers[0]!.handle(t.signRequest(t.event('two'), [a, b]))).toMatchObject({ type: 'refusal', code: 'commitment_unknown', v: 2 });
    expect(t.signers[0]!.handle(t.signRequest(t.event('one'), [a, b]))).toMatchObject({ type: 'refusal', code: 'commitment_unknown' });
  });

  it('refuses a replayed package (same session) before looking at any commitment', () => {
    const t = setup();
    const [a, b] = [t.pool(0, 2)[0]!, t.pool(1, 2)[0]!];
    const request = t.signRequest(t.event('once'), [a, b]);
    expect(t.signers[0]!.handle(request)).toMatchObject({ type: 'sign_share' });
    expect(t.signers[0]!.handle(request)).toMatchObject({ type: 'refusal', code: 'session_reused' });
    // A voter refuses the replay too, rather than voting (and logging) twice.
    expect(t.signers[2]!.handle(request)).toMatchObject({ type: 'sign_vote' });
    expect(t.signers[2]!.handle(request)).toMatchObject({ type: 'refusal', code: 'session_reused' });
  });

  it('refuses a relabel and an id that is not the message before consuming the commitment', () => {
    const t = setup();
    const [a, b] = [t.pool(0, 2)[0]!, t.pool(1, 2)[0]!];
    const kind0 = t.event('{"name":"mallory"}', 0);
    const relabel = t.signRequest({ ...kind0, kind: 1 }, [a, b], undefined, computeEventId(kind0));
    expect(t.signers[0]!.handle(relabel)).toMatchObject({ type: 'refusal', code: 'event_mismatch', v: 2 });
    const wrongId = t.signRequest(t.event('x'), [a, b], undefined, 'f'.repeat(64));
    expect(t.signers[0]!.handle(wrongId)).toMatchObject({ type: 'refusal', code: 'event_mismatch' });
    const otherKey = t.signRequest({ ...t.event('x'), pubkey: 'e'.repeat(64) }, [a, b]);
    expect(t.signers[0]!.handle(otherKey)).toMatchObject({ type: 'refusal', code: 'pubkey_mismatch' });
    // Nothing valuable was consumed: the commitment still signs an honest request.
    expect(t.signers[0]!.pooledCommitments).toBe(2);
    expect(t.signers[0]!.handle(t.signRequest(t.event('honest'), [a, b]))).toMatchObject({ type: 'sign_share' });
  });

  it('burns the commitment on a veto: a later honest request with it is refused', () => {
    const t = setup();
    const [a, b] = [t.pool(0, 2)[0]!, t.pool(1, 2)[0]!];
    const stale = { ...t.event('from the past'), created_at: Math.floor(Date.now() / 1000) - 3_600 }; // outside the policy window
    expect(t.signers[0]!.handle(t.signRequest(stale, [a, b]))).toMatchObject({ type: 'refusal', code: 'vetoed' });
    expect(t.signers[0]!.handle(t.signRequest(t.event('later'), [a, b]))).toMatchObject({ code: 'commitment_unknown' });
  });

  it('purges the pool on restart: commitments issued before are refused by the new process', () => {
    const t = setup();
    const [a, b] = [t.pool(0, 8)[0]!, t.pool(1, 2)[0]!];
    const restarted = t.makeSigner(0);
    expect(restarted.pooledCommitments).toBe(0);
    expect(restarted.handle(t.signRequest(t.event('after restart'), [a, b]))).toMatchObject({ type: 'refusal', code: 'commitment_unknown' });
  });

  it('refuses a package for another group or epoch, and one that names a non-member or too few signers', () => {
    const t = setup();
    const [a, b] = [t.pool(0, 2)[0]!, t.pool(1, 2)[0]!];
    const request = t.signRequest(t.event('x'), [a, b]) as Extract<ToNodeMessage, { type: 'sign_request' }>;
    expect(t.signers[0]!.handle({ ...request, epoch: 3 })).toMatchObject({ code: 'wrong_epoch' });
    expect(t.signers[0]!.handle({ ...request, groupId: 'b'.repeat(64) as never })).toMatchObject({ code: 'unknown_group' });
    expect(t.signers[0]!.handle({ ...t.signRequest(t.event('y'), [a]) })).toMatchObject({ code: 'bad_package' });
    expect(t.signers[0]!.handle(t.signRequest(t.event('z'), [a, { ...b, identifier: 'ee'.repeat(32) as never }]))).toMatchObject({ code: 'bad_package' });
    expect(t.signers[0]!.pooledCommitments).toBe(2);
    expect(t.signers[0]!.handle({ ...t.header(), type: 'nonce_pool_request', count: 1, epoch: 3 })).toMatchObject({ code: 'wrong_epoch' });
  });

  it('holds a one-round request for its operator with the nonces taken: approval signs, denial burns them', () => {
    const t = setup({ askKinds: [7] });
    const [a, b] = [t.pool(0, 4), t.pool(1, 4)];
    const first = t.signRequest(t.event('+', 7), [a[0]!, b[0]!]);
    expect(t.signers[0]!.handle(first)).toMatchObject({ type: 'round1_pending', v: 2 });
    expect(t.signers[0]!.pendingApprovals()).toHaveLength(1);
    expect(t.signers[0]!.decideApproval(first.sessionId, true).ok).toBe(true);
    expect(t.later.at(-1)).toMatchObject({ type: 'sign_share', sessionId: first.sessionId });

    const second = t.signRequest(t.event('-', 7), [a[1]!, b[1]!]);
    expect(t.signers[0]!.handle(second)).toMatchObject({ type: 'round1_pending' });
    expect(t.signers[0]!.decideApproval(second.sessionId, false).ok).toBe(true);
    expect(t.later.at(-1)).toMatchObject({ type: 'refusal', code: 'approval_denied', v: 2 });
    expect(t.signers[0]!.handle(t.signRequest(t.event('retry'), [a[1]!, b[1]!]))).toMatchObject({ code: 'commitment_unknown' });
    // A node outside the package asked the same way answers a vote once approved.
    const third = t.signRequest(t.event('!', 7), [b[2]!, t.pool(2, 1)[0]!]);
    expect(t.signers[0]!.handle(third)).toMatchObject({ type: 'round1_pending' });
    t.signers[0]!.decideApproval(third.sessionId, true);
    expect(t.later.at(-1)).toMatchObject({ type: 'sign_vote', sessionId: third.sessionId });
  });

  it('issues no commitments while frozen, and drops a one-round message of version 1 as malformed', () => {
    const t = setup();
    t.signers[0]!.freeze('incident');
    expect(t.signers[0]!.handle({ ...t.header(), type: 'nonce_pool_request', count: 8 })).toMatchObject({ type: 'nonce_pool', commitments: [] });
    const e = t.event('v1');
    const wrongVersion = { ...t.header(), v: 1, type: 'sign_request', event: e, eventId: computeEventId(e), commitments: [] };
    expect(toNodeMessageSchema.safeParse(wrongVersion).success).toBe(false);
    expect(toNodeMessageSchema.safeParse({ ...t.header(), v: 1, type: 'nonce_pool_request', count: 1 }).success).toBe(false);
  });

  it('uses no commitment twice over 1,000 one-round sessions with replays, relabels and restarts interleaved (G9 ledger)', () => {
    const t = setup();
    const signedWith = new Map<string, number>();
    let signers = [t.signers[0]!, t.signers[1]!];
    let pools: SigningCommitments[][] = [t.pool(0, 32), t.pool(1, 32)];
    const used: { request: ToNodeMessage; own: SigningCommitments }[] = [];
    let shares = 0;
    let refused = 0;
    for (let n = 0; n < 1_000; n++) {
      const roll = n % 10;
      if (roll === 9) {
        // Node 1 restarts: its pool is gone; the attacker keeps (and tries) the old commitments.
        signers = [t.makeSigner(0), signers[1]!];
        pools[0] = []; // the attacker keeps the old ones only in `used`, for replays
      }
      let request: ToNodeMessage;
      let own: SigningCommitments;
      if (roll < 6 || used.length === 0) {
        if (pools[0]!.length === 0) pools[0] = (signers[0]!.handle({ ...t.header(), type: 'nonce_pool_request', count: 32 }) as { commitments: SigningCommitments[] }).commitments;
        if (pools[1]!.length === 0) pools[1] = t.pool(1, 32);
        own = pools[0]!.shift()!;
        const e = t.event(`note ${n}`);
        request = t.signRequest(roll === 5 ? { ...e, kind: 0 } : e, [own, pools[1]!.shift()!], undefined, roll === 5 ? computeEventId(e) : undefined);
      } else {
        // Replay an earlier request as is, or with a new session id, or for another event.
        const old = used[Math.floor(Math.random() * used.length)]!;
        own = old.own;
        const base = old.request as Extract<ToNodeMessage, { type: 'sign_request' }>;
        const e = t.event(`other ${n}`);
        request = roll === 6 ? base : roll === 7 ? { ...base, ...t.header() } : { ...base, ...t.header(), event: e, eventId: computeEventId(e) as never };
      }
      const reply = signers[0]!.handle(request);
      if (reply.type === 'sign_share') {
        shares++;
        const key = `${own.hiding}${own.binding}`;
        signedWith.set(key, (signedWith.get(key) ?? 0) + 1);
        if (reply.next.length > 0) pools[0]!.push(...reply.next);
      } else {
        refused++;
      }
      used.push({ request, own });
    }
    const reused = [...signedWith.values()].filter((count) => count > 1).length;
    console.log(`[figure] one-round G9 ledger: 1000 sessions, ${shares} partial signatures, ${refused} refused, ${reused} commitments used twice`);
    expect(shares).toBeGreaterThan(300);
    expect(refused).toBeGreaterThan(300);
    expect(reused).toBe(0);
  }, 120_000);
});
