import { schnorr } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { verifyEvent } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { createSigningPackage, verifySignatureShare } from '@frostbunker/shared/crypto';
import { CheaterError, QuorumError, VetoError } from '@frostbunker/shared/errors';
import type { FromNodeMessage } from '@frostbunker/shared/protocol';
import type { InvalidPartialEvidence, SignedEvent, SigningObserver } from '../../src/signing/signing-coordinator.js';
import { createMemoryCluster, delayReplies } from './memory-cluster.js';

const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

function event(userPubkey: string, content = 'hello') {
  return { pubkey: userPubkey, created_at: Math.floor(Date.now() / 1000), kind: 1, tags: [], content };
}

/** Rewrites a node's partial signature, leaving every other reply alone. */
function tamperShare(transform: (z: bigint) => bigint) {
  return (reply: FromNodeMessage): FromNodeMessage => {
    if (reply.type !== 'round2_share') return reply;
    const z = transform(BigInt(`0x${reply.signatureShare}`));
    return { ...reply, signatureShare: z.toString(16).padStart(64, '0') };
  };
}

/** An observer that keeps what it is told. */
function recorder() {
  const seen = { failovers: [] as string[], late: [] as string[], sessions: [] as number[], invalid: [] as InvalidPartialEvidence[] };
  const observer: SigningObserver = {
    failover: (excluded, cause) => void seen.failovers.push(`${excluded.join(',')}:${cause}`),
    lateMessage: (node, type) => void seen.late.push(`${node}:${type}`),
    sessionsPerRequest: (sessions) => void seen.sessions.push(sessions),
    invalidPartial: (evidence) => void seen.invalid.push(evidence),
  };
  return { seen, observer };
}

function assertValid(signed: SignedEvent) {
  expect(verifyEvent({ ...signed })).toBe(true);
  expect(schnorr.verify(hexToBytes(signed.sig), hexToBytes(signed.id), hexToBytes(signed.pubkey))).toBe(true);
}

describe('SigningCoordinator', () => {
  it('signs with all nodes honest in a single session', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    const signed = await cluster.coordinator.sign(event(cluster.userPubkey));
    assertValid(signed);
    expect(cluster.coordinator.stats().sessionsStarted).toBe(1);
  });

  it('signs when one of three nodes is silent, without a second session', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    cluster.setBehaviour(2, 'silent');
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
    expect(cluster.coordinator.stats().sessionsStarted).toBe(1);
  });

  it('with a node silent, ends round 1 at the veto grace rather than the round deadline', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, roundTimeoutMs: 5_000 });
    cluster.setBehaviour(3, 'silent');
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
    const done = cluster.logLines.find((line) => line.msg === 'signing session done');
    expect(done?.round1Ms).toBeLessThan(5_000);
  });

  it('fails with a quorum error naming the silent nodes when two of three are silent', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    cluster.setBehaviour(2, 'silent');
    cluster.setBehaviour(3, 'silent');
    const failure = cluster.coordinator.sign(event(cluster.userPubkey));
    await expect(failure).rejects.toBeInstanceOf(QuorumError);
    await expect(failure).rejects.toThrow(/silent: node-2, node-3/);
  });

  it('fails over when a node commits in round 1 and then goes silent in round 2', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    cluster.setBehaviour(1, (reply) => (reply.type === 'round2_share' ? undefined : reply));
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
    expect(cluster.coordinator.stats().sessionsStarted).toBeLessThanOrEqual(2); // n − k + 1
  });

  it.each([
    ['negated', (z: bigint) => (CURVE_ORDER - z) % CURVE_ORDER],
    ['off by one', (z: bigint) => (z + 1n) % CURVE_ORDER],
    ['out of range', (z: bigint) => CURVE_ORDER + (z % 1000n)],
  ])('names a node that sends a %s partial signature and signs without it', async (_name, transform) => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    cluster.setBehaviour(1, tamperShare(transform));
    const signed = await cluster.coordinator.sign(event(cluster.userPubkey));
    assertValid(signed);
    expect(cluster.coordinator.stats().sessionsStarted).toBe(2);
    const blame = cluster.logLines.find((line) => line.msg === 'invalid partial signature');
    expect(blame?.culprits).toEqual(['node-1']);
  });

  it('in 2-of-2 reports the cheater by name and returns no signature', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 2 });
    cluster.setBehaviour(2, tamperShare((z) => (CURVE_ORDER - z) % CURVE_ORDER));
    const failure = cluster.coordinator.sign(event(cluster.userPubkey));
    await expect(failure).rejects.toBeInstanceOf(CheaterError);
    await expect(failure).rejects.toThrow(/node-2/);
  });

  it('hands the observer the evidence of a bad partial: package, share and the sender’s transport identity', async () => {
    const { seen, observer } = recorder();
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, observer });
    cluster.setBehaviour(1, tamperShare((z) => (CURVE_ORDER - z) % CURVE_ORDER));
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
    expect(seen.invalid).toHaveLength(1);
    const evidence = seen.invalid[0]!;
    expect(evidence).toMatchObject({ node: 'node-1', nodePubkey: cluster.members[0]!.nodePubkey, identifier: cluster.members[0]!.identifier });
    const pkg = createSigningPackage(hexToBytes(evidence.eventId), [...evidence.commitments]);
    expect(verifySignatureShare(cluster.group, pkg, evidence.identifier, evidence.signatureShare)).toBe(false);
    expect(seen.failovers).toEqual(['node-1:invalid_partial']);
    expect(seen.sessions).toEqual([2]);
  });

  it('names the nodes left out earlier in the request when a later session finds no quorum', async () => {
    const { seen, observer } = recorder();
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, observer });
    cluster.setBehaviour(1, tamperShare((z) => (z + 1n) % CURVE_ORDER));
    cluster.setBehaviour(3, 'silent');
    const failure = cluster.coordinator.sign(event(cluster.userPubkey));
    await expect(failure).rejects.toBeInstanceOf(QuorumError);
    await expect(failure).rejects.toThrow(/silent: node-3; left out earlier in this request: node-1 \(invalid partial signature\)$/);
    const error = (await failure.catch((e: unknown) => e)) as QuorumError;
    expect(error.missing).toEqual(['node-3', 'node-1']);
    expect(seen.sessions).toEqual([2]);
  });

  it('treats a refusal as sticky: one session, an error naming the node, no failover', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    cluster.setBehaviour(1, (reply) => ({
      v: 1,
      type: 'refusal',
      groupId: reply.groupId,
      epoch: reply.epoch,
      sessionId: reply.sessionId,
      code: 'vetoed',
      reason: 'kind 1 not on my list',
    }));
    const failure = cluster.coordinator.sign(event(cluster.userPubkey));
    await expect(failure).rejects.toBeInstanceOf(VetoError);
    await expect(failure).rejects.toThrow(/node-1.*kind 1 not on my list/);
    expect(cluster.coordinator.stats().sessionsStarted).toBe(1);
  });

  it('fails over when a node restarted between the rounds answers round 2 with unknown_session (not a veto; found by G15b)', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    // Node 1 commits in round 1, then restarts before round 2: its new process knows no session.
    cluster.setBehaviour(1, (reply) => {
      if (reply.type === 'round1_commitments') cluster.restartNode(1);
      return reply;
    });
    const signed = await cluster.coordinator.sign(event(cluster.userPubkey));
    assertValid(signed);
    expect(cluster.coordinator.stats().sessionsStarted).toBe(2);
  });

  it('leaves out only the restarted node when its round-2 refusal comes before a slower co-signer\'s share', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    cluster.setBehaviour(1, (reply) => {
      if (reply.type === 'round1_commitments') cluster.restartNode(1);
      return reply;
    });
    cluster.setBehaviour(2, delayReplies(30, (reply) => reply.type === 'round2_share'));
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
    expect(cluster.coordinator.stats().sessionsStarted).toBe(2);
    const retry = cluster.logLines.find((line) => line.msg === 'signing session failed, retrying without nodes');
    expect(retry).toMatchObject({ excluded: ['node-1'], cause: 'no partial signature from node-1 (unknown_session)' });
  });

  it.each(['wrong_epoch', 'unknown_group'] as const)('takes a %s refusal as absence and signs with the other nodes', async (code) => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    cluster.setBehaviour(1, (reply) => ({ v: 1, type: 'refusal', groupId: reply.groupId, epoch: reply.epoch, sessionId: reply.sessionId, code, reason: code }));
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
  });

  it('ignores session_reused (the answer to a second copy of a request): not a veto, counted late', async () => {
    const { seen, observer } = recorder();
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, observer });
    // What node 2 sends when a request reaches it twice, without its answer to the first copy.
    cluster.setBehaviour(2, (reply) =>
      reply.type === 'round1_commitments'
        ? { v: 1, type: 'refusal', groupId: reply.groupId, epoch: reply.epoch, sessionId: reply.sessionId, code: 'session_reused', reason: 'session id already used' }
        : reply,
    );
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
    expect(cluster.coordinator.stats().sessionsStarted).toBe(1);
    expect(seen.late).toContain('node-2:refusal');
  });

  it('ignores a commitment whose identifier is not the authenticated sender, counting it late by sender and type', async () => {
    const { seen, observer } = recorder();
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3, observer });
    const claimed = cluster.members[0]!.identifier;
    cluster.setBehaviour(2, (reply) =>
      reply.type === 'round1_commitments' ? { ...reply, commitments: { ...reply.commitments, identifier: claimed } } : reply,
    );
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
    expect(cluster.coordinator.stats().lateMessages).toBeGreaterThanOrEqual(1);
    expect(seen.late).toContain('node-2:round1_commitments');
    expect(seen.sessions).toEqual([1]);
  });

  it('refuses to sign an event whose pubkey is not the group key', async () => {
    const cluster = createMemoryCluster({ threshold: 2, maxSigners: 3 });
    await expect(cluster.coordinator.sign(event('f'.repeat(64)))).rejects.toThrow(/not the group key/);
    expect(cluster.coordinator.stats().sessionsStarted).toBe(0);
  });

  it('signs 3-of-5 with two nodes silent', async () => {
    const cluster = createMemoryCluster({ threshold: 3, maxSigners: 5 });
    cluster.setBehaviour(1, 'silent');
    cluster.setBehaviour(4, 'silent');
    assertValid(await cluster.coordinator.sign(event(cluster.userPubkey)));
  });
});
