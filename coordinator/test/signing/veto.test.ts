import { verifyEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { FrostbunkerError, QuorumError, VetoError } from '@frostbunker/shared/errors';
import { KIND_ENCRYPTION_KEY } from '@frostbunker/shared/nostr';
import { createMemoryCluster, delayReplies } from './memory-cluster.js';

const event = (userPubkey: string, kind = 1, tags: string[][] = []) => ({
  pubkey: userPubkey,
  created_at: Math.floor(Date.now() / 1000),
  kind,
  tags,
  content: `payload ${Math.random()}`,
});

describe('sticky veto and kill switch (G8)', () => {
  it('ends every vetoed request with an error naming the node, in one session, even with a node paused', async () => {
    // Node 1 runs the default policy (NIP-4e key announcements denied unless allowed), node 2 is
    // silent, node 3 would sign anything: failover must never route around the veto.
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, policies: { 3: { encryptionKeyEvents: { allowedPubkeys: ['a'.repeat(64)] } } } });
    cluster.setBehaviour(2, 'silent');
    for (let i = 0; i < 50; i++) {
      const attempt = cluster.coordinator.sign(event(cluster.userPubkey, KIND_ENCRYPTION_KEY, [['n', 'a'.repeat(64)]]));
      await expect(attempt).rejects.toBeInstanceOf(VetoError);
      await expect(attempt).rejects.toThrow(/vetoed by node-1: vetoed: /);
    }
    expect(cluster.coordinator.stats().sessionsStarted).toBe(50);
  });

  it('answers "frozen" for every request when a 2-of-2 node is frozen, without waiting for the deadline', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 2, roundTimeoutMs: 5_000 });
    cluster.signers[1]!.freeze('incident');
    const started = performance.now();
    for (let i = 0; i < 50; i++) {
      const attempt = cluster.coordinator.sign(event(cluster.userPubkey));
      await expect(attempt).rejects.toBeInstanceOf(QuorumError);
      // "can answer" (not "answered within …"): decided as soon as the refusal arrived.
      await expect(attempt).rejects.toThrow(/can answer; out of service: node-2 \(frozen\)/);
    }
    console.log(`[figure] 50 frozen 2-of-2 requests answered in ${(performance.now() - started).toFixed(0)} ms`);
  });

  it('does not call a co-signer silent whose commitment is still on its way when the frozen node refuses', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 2, roundTimeoutMs: 5_000 });
    cluster.signers[1]!.freeze('incident');
    cluster.setBehaviour(1, delayReplies(30, (reply) => reply.type === 'round1_commitments'));
    const attempt = cluster.coordinator.sign(event(cluster.userPubkey));
    await expect(attempt).rejects.toThrow('quorum unavailable: 1 of 2 required share nodes can answer; out of service: node-2 (frozen)');
  });

  it('still signs ordinary kinds in 2-of-3 with one node frozen', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    cluster.signers[0]!.freeze('maintenance');
    for (let i = 0; i < 10; i++) {
      const signed = await cluster.coordinator.sign(event(cluster.userPubkey));
      expect(verifyEvent({ ...signed })).toBe(true);
    }
  });

  it('waits for a node that asks its operator, includes it once approved, and never shops around', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, roundTimeoutMs: 200, policies: { 1: { askKinds: [7] } } });
    const attempt = cluster.coordinator.sign(event(cluster.userPubkey, 7));
    await new Promise((resolve) => setTimeout(resolve, 500)); // longer than a round deadline
    const pending = cluster.signers[0]!.pendingApprovals();
    expect(pending).toHaveLength(1);
    expect(cluster.signers[0]!.decideApproval(pending[0]!.sessionId, true).ok).toBe(true);
    const signed = await attempt;
    expect(verifyEvent({ ...signed })).toBe(true);
    expect(cluster.coordinator.stats().sessionsStarted).toBe(1);
  });

  it('ends the request when the operator denies it', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, policies: { 2: { askKinds: [7] } } });
    const attempt = cluster.coordinator.sign(event(cluster.userPubkey, 7));
    await new Promise((resolve) => setTimeout(resolve, 50));
    cluster.signers[1]!.decideApproval(cluster.signers[1]!.pendingApprovals()[0]!.sessionId, false, 'nope');
    await expect(attempt).rejects.toThrow(/vetoed by node-2: approval_denied: nope/);
  });

  it('ends the request with a timeout naming the node when nobody decides', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, roundTimeoutMs: 100, policies: { 3: { askKinds: [7], approvalTimeoutSec: 1 } } });
    const attempt = cluster.coordinator.sign(event(cluster.userPubkey, 7));
    await expect(attempt).rejects.toBeInstanceOf(FrostbunkerError);
    await expect(attempt).rejects.toThrow(/node-3.*approval_timeout|no operator decision on node-3/);
  });
});
