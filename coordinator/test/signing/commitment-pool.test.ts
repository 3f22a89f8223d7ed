import { describe, expect, it } from 'vitest';
import type { SigningCommitments } from '@frostbunker/shared/crypto';
import type { FrostIdentifier, SessionId, XOnlyPubkey } from '@frostbunker/shared/protocol';
import { CommitmentPools } from '../../src/signing/commitment-pool.js';
import type { ShareNodeMember } from '../../src/signing/identity.js';

const members: ShareNodeMember[] = [1, 2, 3].map((i) => ({
  identifier: String(i).padStart(64, '0') as FrostIdentifier,
  nodePubkey: String(i).repeat(64) as XOnlyPubkey,
  label: `node-${i}`,
}));

let serial = 0;
/** Stand-ins for a node's commitments: the pools only compare identifiers and hiding points. */
const commitments = (member: ShareNodeMember, count: number): SigningCommitments[] =>
  Array.from({ length: count }, () => ({ identifier: member.identifier, hiding: `02${String(++serial).padStart(64, '0')}`, binding: `03${'0'.repeat(64)}` }));

function makePools(options: { poolTarget?: number; refillLostAfterMs?: number } = {}) {
  let nowMs = 0;
  const pools = new CommitmentPools({ poolTarget: 4, ...options, now: () => nowMs });
  let sessions = 0;
  const refillsDue = (timeoutMs = 5_000) => pools.refillsDue(members, timeoutMs, () => `s${++sessions}` as SessionId).map((r) => r.member.label);
  return { pools, refillsDue, advance: (ms: number) => void (nowMs += ms) };
}

describe('CommitmentPools (one-round signing)', () => {
  it('picks the nodes that hold commitments in turn, so a node one commitment behind is still picked', () => {
    const { pools } = makePools();
    pools.add(members[0]!.identifier, commitments(members[0]!, 4));
    pools.add(members[1]!.identifier, commitments(members[1]!, 3));
    pools.add(members[2]!.identifier, commitments(members[2]!, 4));
    const picked = Array.from({ length: 3 }, () => {
      const chosen = pools.take(members, 2)!.map((c) => c.member.label);
      // Each share comes back with one replacement: the sizes never converge.
      for (const label of chosen) {
        const member = members.find((m) => m.label === label)!;
        pools.add(member.identifier, commitments(member, 1));
      }
      return chosen;
    });
    expect(picked.filter((chosen) => chosen.includes('node-2'))).toHaveLength(2);
    expect(new Set(picked.flat())).toEqual(new Set(['node-1', 'node-2', 'node-3']));
  });

  it('offers nothing, and takes nothing, when fewer than k candidates hold a commitment', () => {
    const { pools } = makePools();
    pools.add(members[0]!.identifier, commitments(members[0]!, 2));
    expect(pools.take(members, 2)).toBeUndefined();
    expect(pools.size(members[0]!.identifier)).toBe(2);
  });

  it('asks again at once when a node answers a ping while its refill is overdue, forgetting what it held', () => {
    const { pools, refillsDue, advance } = makePools({ refillLostAfterMs: 1_000 });
    pools.add(members[0]!.identifier, commitments(members[0]!, 1));
    expect(refillsDue()).toEqual(['node-1', 'node-2', 'node-3']);
    advance(500);
    pools.nodeAnswered(members[0]!.identifier); // a refill in flight is not lost yet
    expect(refillsDue()).toEqual([]);
    advance(600);
    pools.nodeAnswered(members[0]!.identifier); // the node was away when asked: it may have restarted
    expect(pools.size(members[0]!.identifier)).toBe(0);
    expect(refillsDue()).toEqual(['node-1']);
  });

  it('forgets what it held for a node whose refill timed out', () => {
    const { pools, refillsDue, advance } = makePools();
    pools.add(members[1]!.identifier, commitments(members[1]!, 1));
    refillsDue(5_000);
    advance(5_000);
    expect(refillsDue(5_000)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(pools.size(members[1]!.identifier)).toBe(0);
  });
});
