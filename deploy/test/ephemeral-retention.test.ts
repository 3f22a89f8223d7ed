import { describe, expect, it } from 'vitest';
import { finalizeEvent, generateSecretKey } from 'nostr-tools/pure';
import type { Event } from '@nostr-relay/common';
import { EphemeralRetention } from '../src/relay/index.js';

const KIND_EPHEMERAL = 24133;
const KIND_TEXT_NOTE = 1;
const secretKey = generateSecretKey();
const event = (kind: number, content: string, tags: string[][] = []): Event =>
  JSON.parse(JSON.stringify(finalizeEvent({ kind, content, tags, created_at: 1_700_000_000 }, secretKey))) as Event;

// The strfry-like retention behind the embedded relay (RELIABILITY.md G2): bounded in time and count.
describe('EphemeralRetention', () => {
  const broadcast = (retention: EphemeralRetention, e: Event) => retention.broadcast(e, async () => {});

  it('keeps ephemeral events only, for retentionSec from arrival, and serves those matching a filter', async () => {
    let nowMs = 0;
    const retention = new EphemeralRetention({ retentionSec: 10, maxEvents: 100, nowMs: () => nowMs });
    const mine = event(KIND_EPHEMERAL, 'mine', [['p', 'a'.repeat(64)]]);
    const other = event(KIND_EPHEMERAL, 'other', [['p', 'b'.repeat(64)]]);
    await broadcast(retention, event(KIND_TEXT_NOTE, 'stored elsewhere'));
    await broadcast(retention, mine);
    nowMs = 5_000;
    await broadcast(retention, other);
    expect(retention.size).toBe(2);
    expect(retention.matching({ kinds: [KIND_EPHEMERAL], '#p': ['a'.repeat(64)] }).map((e) => e.content)).toEqual(['mine']);
    nowMs = 10_000;
    expect(retention.has(mine.id)).toBe(false);
    expect(retention.matching({ kinds: [KIND_EPHEMERAL] }).map((e) => e.content)).toEqual(['other']);
    nowMs = 15_000;
    expect(retention.size).toBe(0);
  });

  it('evicts the oldest beyond maxEvents', async () => {
    const retention = new EphemeralRetention({ retentionSec: 60, maxEvents: 3 });
    const events = ['1', '2', '3', '4', '5'].map((c) => event(KIND_EPHEMERAL, c));
    for (const e of events) await broadcast(retention, e);
    expect(retention.matching({ kinds: [KIND_EPHEMERAL] }).map((e) => e.content)).toEqual(['3', '4', '5']);
  });

  it('refuses a configuration without a bound', () => {
    expect(() => new EphemeralRetention({ retentionSec: 0, maxEvents: 10 })).toThrow(/retentionSec/);
    expect(() => new EphemeralRetention({ retentionSec: 10, maxEvents: 0 })).toThrow(/maxEvents/);
  });
});
