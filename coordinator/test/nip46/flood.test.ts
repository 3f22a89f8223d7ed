import { describe, expect, it } from 'vitest';
import { FloodGuard } from '../../src/nip46/flood-guard.js';
import { endpointHarness as setup } from './endpoint-harness.js';

const note = () => JSON.stringify({ kind: 1, content: 'x', tags: [], created_at: 1 });

describe('NIP-46 flood budgets (RELIABILITY.md G16, CI size)', () => {
  it('G16: 5,000 requests in 10 s from a capped client do not stop a legit client, and are not amplified', async () => {
    const { clock, endpoint, admin, client, connectWithToken, published } = await setup();
    const legit = client();
    const attacker = client();
    await connectWithToken(legit, 'sign_event:1');
    await connectWithToken(attacker, 'ping');
    admin.grant({ clientPubkey: attacker.pubkey, method: 'sign_event', kind: 1, usageCap: { max: 10, windowSec: 60 } }, { actor: 'test', reason: 'limited to 10/min' });
    const before = published.length;
    for (let i = 0; i < 5_000; i++) {
      clock.ms += 2; // 5,000 over 10 s
      await endpoint.handleEvent(attacker.request('sign_event', [note()]));
      if (i % 100 === 0) await endpoint.handleEvent(legit.request('sign_event', [note()]));
    }
    const legitReplies = legit.replies().slice(1); // after the connect ack
    expect(legitReplies).toHaveLength(50);
    expect(legitReplies.every((r) => r.error === undefined && JSON.parse(r.result).sig)).toBe(true);
    const attackerReplies = attacker.replies().slice(1);
    const signatures = attackerReplies.filter((r) => r.error === undefined);
    const errors = attackerReplies.filter((r) => r.error !== undefined);
    expect(signatures).toHaveLength(10); // the cap
    // Error budget: a burst of 5, then 1 per second over the 10 s.
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.length).toBeLessThanOrEqual(5 + 10);
    expect(published.length - before).toBe(50 + signatures.length + errors.length);
    expect(endpoint.dropped().error_reply_budget).toBe(5_000 - signatures.length - errors.length);
    console.log(`G16: attacker 5000 requests -> ${signatures.length} signatures, ${errors.length} error replies, ${endpoint.dropped().error_reply_budget} counted drops; legit 50/50`);
  });

  it('G16b: 5,000 junk events from fresh keys at 500/s cost at most the unknown-sender budget, while a known client signs 50/50', async () => {
    const { clock, endpoint, client, connectWithToken, junk, guard } = await setup();
    const legit = client();
    await connectWithToken(legit, 'sign_event:1');
    for (let i = 0; i < 5_000; i++) {
      clock.ms += 2;
      await endpoint.handleEvent(junk());
      if (i % 100 === 0) await endpoint.handleEvent(legit.request('sign_event', [note()]));
    }
    expect(legit.replies().slice(1).filter((r) => r.error === undefined)).toHaveLength(50);
    const dropped = endpoint.dropped();
    // Burst 100, then 50/s for 10 s: at most 600 ECDHs spent on strangers; the rest never decrypted.
    expect(dropped.undecryptable).toBeLessThanOrEqual(100 + 50 * 10);
    expect(dropped.unknown_sender_budget).toBe(5_000 - dropped.undecryptable!);
    expect(guard.drops().unknown_sender_budget).toBe(dropped.unknown_sender_budget);
  });

  it('G16b: after 1,000 connects from fresh keys, a legit connect with a valid token from a fresh key still succeeds', async () => {
    const { clock, endpoint, client, connectWithToken, junk } = await setup();
    for (let i = 0; i < 1_000; i++) await endpoint.handleEvent(junk());
    expect(endpoint.dropped().unknown_sender_budget).toBe(900);
    clock.ms += 1_000; // the budget refills at 50/s
    const newcomer = client();
    await connectWithToken(newcomer, 'sign_event:1');
    expect(newcomer.replies()).toEqual([{ id: expect.any(String), result: 'ack' }]);
  });

  it('always answers errors that came after real work (vetoes): a client within its request rate never hangs', async () => {
    const { clock, endpoint, client, connectWithToken, vetoSigning } = await setup();
    const legit = client();
    await connectWithToken(legit, 'sign_event:1');
    vetoSigning(true);
    for (let i = 0; i < 30; i++) {
      clock.ms += 100; // 10/s: within the request rate, well past the error budget
      await endpoint.handleEvent(legit.request('sign_event', [note()]));
    }
    const replies = legit.replies().slice(1);
    expect(replies).toHaveLength(30);
    expect(replies.every((r) => r.error === 'vetoed by node-1: denied_kind: kind 1 is denied')).toBe(true);
  });

  it('keeps per-client state bounded under a flood of distinct pubkeys', async () => {
    const guard = new FloodGuard({ budgets: { maxTrackedClients: 100 }, nowMs: () => 0 });
    for (let i = 0; i < 10_000; i++) guard.admitRequest(i.toString(16).padStart(64, '0'));
    expect(guard.trackedClients).toBe(100);
  });
});
