import { randomBytes } from 'node:crypto';
import type { NostrEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { endpointHarness } from './endpoint-harness.js';

const note = (i: number) => JSON.stringify({ kind: 1, content: `replay ${i}`, tags: [], created_at: 1 });

/** A known client signs 100 notes; returns what a relay (or an attacker) captured. */
async function captured(h: Awaited<ReturnType<typeof endpointHarness>>) {
  const client = h.client();
  await h.connectWithToken(client, 'sign_event:1');
  const events: NostrEvent[] = [];
  for (let i = 0; i < 100; i++) {
    h.clock.ms += 50;
    const event = client.request('sign_event', [note(i)]);
    events.push(event);
    await h.endpoint.handleEvent(event);
  }
  expect(h.signingSessions()).toBe(100);
  return { client, events, repliesBefore: client.replies().length };
}

// RELIABILITY.md G17 (CI size): 100 captured requests replayed; modes (a), (c) and (d) here,
// (b) across a coordinator SIGKILL in test/e2e/replay.test.ts.
describe('NIP-46 replays (G17)', () => {
  it('(a) the same events again at once, as through a second relay: 0 extra sessions, each counted', async () => {
    const h = await endpointHarness();
    const { events } = await captured(h);
    const before = h.endpoint.dropped().duplicate ?? 0;
    for (const event of events) await h.endpoint.handleEvent({ ...event });
    expect(h.signingSessions()).toBe(100);
    expect((h.endpoint.dropped().duplicate ?? 0) - before).toBe(100);
  });

  it('(a) re-published under new event ids (same client, same request ids): still 0 extra sessions', async () => {
    const h = await endpointHarness();
    const { events, client, repliesBefore } = await captured(h);
    for (const event of events) await h.endpoint.handleEvent({ ...event, id: randomBytes(32).toString('hex') });
    expect(h.signingSessions()).toBe(100);
    expect(client.replies()).toHaveLength(repliesBefore); // ignored, not answered again
  });

  it('(c) after 100,000 junk event ids have pushed the originals out of the in-memory set: 0 extra sessions', async () => {
    const h = await endpointHarness();
    const { events } = await captured(h);
    const template = h.junk(); // only the ids matter here: they fill the bounded in-memory set
    for (let i = 0; i < 100_000; i++) await h.endpoint.handleEvent({ ...template, id: randomBytes(32).toString('hex') });
    for (const event of events) await h.endpoint.handleEvent(event);
    expect(h.signingSessions()).toBe(100);
  });

  it('(d) with the clock 10 minutes later: answered "request too old", never signed', async () => {
    const h = await endpointHarness();
    const fresh = h.client();
    await h.connectWithToken(fresh, 'sign_event:1');
    const old: NostrEvent[] = [];
    for (let i = 0; i < 100; i++) old.push(fresh.request('sign_event', [note(i)])); // captured, never delivered
    h.clock.ms += 10 * 60_000;
    for (const event of old) await h.endpoint.handleEvent(event);
    expect(h.signingSessions()).toBe(0);
    const replies = fresh.replies().slice(1);
    expect(replies.length).toBeGreaterThan(0); // within the error budget; the rest are counted drops
    expect(replies.every((r) => r.error === 'request too old (check clock)')).toBe(true);
    expect(replies.length + (h.endpoint.dropped().error_reply_budget ?? 0)).toBe(100);
  });
});
