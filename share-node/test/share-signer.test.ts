import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { computeEventId, dealerKeygen, groupXOnlyKey, identifierFromIndex } from '@frostbunker/shared/crypto';
import { silentLogger } from '@frostbunker/shared/logger';
import { computeGroupId, type FromNodeMessage, type GroupId, type SessionId, type ToNodeMessage } from '@frostbunker/shared/protocol';
import { NodeLog } from '../src/node-log.js';
import { NodeState } from '../src/node-state.js';
import { ShareSigner } from '../src/signer/share-signer.js';
import { DEFAULT_VETO_POLICY, type VetoPolicy } from '../src/veto/policy-schema.js';

function setup(policyOverrides: Partial<VetoPolicy> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'frostbunker-share-signer-'));
  const later: FromNodeMessage[] = [];
  const policy = { ...DEFAULT_VETO_POLICY, ...policyOverrides };
  const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3 });
  const members = shares.map((s, i) => ({ identifier: s.identifier, nodePubkey: String(i + 1).repeat(64), label: `node-${i + 1}` }));
  const groupId = computeGroupId({ ...group, members });
  const nowSec = 1_800_000_000;
  const logs = shares.map((_, i) => NodeLog.open(join(dir, `node-${i + 1}`, 'node-log.jsonl'), { nowSec: () => nowSec }));
  const signers = shares.map(
    (share, i) =>
      new ShareSigner({
        groupId,
        epoch: 0,
        group,
        groupPubkey: groupXOnlyKey(group),
        share,
        logger: silentLogger,
        nowSec: () => nowSec,
        monotonicMs: () => 0,
        policy: () => ({ policy, rules: [] }),
        log: logs[i]!,
        state: new NodeState(join(dir, `node-${i + 1}`, 'state.json')),
        sendLater: (message) => void later.push(message),
      }),
  );
  const event = { pubkey: groupXOnlyKey(group) as string, created_at: nowSec, kind: 1, tags: [] as string[][], content: 'hi' };
  const header = (sessionId: string) => ({ v: 1 as const, groupId, epoch: 0, sessionId: sessionId as SessionId });
  const round1 = (sessionId: string, overrides: Partial<typeof event> = {}, eventId?: string): ToNodeMessage => {
    const e = { ...event, ...overrides };
    return { ...header(sessionId), type: 'round1_request', event: e, eventId: (eventId ?? computeEventId(e)) as never };
  };
  return { group, signers, groupId, event, header, round1, later, logs };
}

const S1 = 'a'.repeat(32);

describe('ShareSigner', () => {
  it('commits only after recomputing the event id itself', () => {
    const { signers, round1 } = setup();
    const reply = signers[0]!.handle(round1(S1, {}, 'f'.repeat(64)));
    expect(reply).toMatchObject({ type: 'refusal', code: 'event_mismatch' });
    expect(signers[0]!.pendingSessions).toBe(0);
  });

  it('refuses an event whose pubkey is not the group key', () => {
    const { signers, round1 } = setup();
    expect(signers[0]!.handle(round1(S1, { pubkey: 'e'.repeat(64) }))).toMatchObject({ type: 'refusal', code: 'pubkey_mismatch' });
  });

  it('refuses an unknown group and a wrong epoch', () => {
    const { signers, round1 } = setup();
    const request = round1(S1);
    expect(signers[0]!.handle({ ...request, groupId: 'b'.repeat(64) as GroupId })).toMatchObject({ code: 'unknown_group' });
    expect(signers[0]!.handle({ ...request, epoch: 1 })).toMatchObject({ code: 'wrong_epoch' });
  });

  it('vetoes created_at outside its policy window, before committing', () => {
    const { signers, round1, event } = setup();
    const reply = signers[0]!.handle(round1(S1, { created_at: event.created_at + 601 }));
    expect(reply).toMatchObject({ type: 'refusal', code: 'vetoed', reason: expect.stringMatching(/created_at/) });
    expect(signers[0]!.pendingSessions).toBe(0);
  });

  it('vetoes a denied kind with the rule and a reason, and logs the refusal', () => {
    const { signers, round1, logs } = setup({ deniedKinds: [1] });
    expect(signers[0]!.handle(round1(S1))).toMatchObject({ type: 'refusal', code: 'vetoed', reason: expect.stringMatching(/^denied_kind/) });
    expect(logs[0]!.tail(1)[0]).toMatchObject({ decision: 'refused', code: 'vetoed', kind: 1 });
  });

  it('refuses everything with "frozen" while frozen, survives as state, and serves again after unfreeze', () => {
    const { signers, round1 } = setup();
    signers[0]!.freeze('incident 42');
    expect(signers[0]!.handle(round1(S1))).toMatchObject({ type: 'refusal', code: 'frozen', reason: 'frozen' });
    signers[0]!.unfreeze();
    expect(signers[0]!.handle(round1('d'.repeat(32)))).toMatchObject({ type: 'round1_commitments' });
  });

  it('holds an "ask" kind for the operator and commits only after approval', () => {
    const { signers, round1, later } = setup({ askKinds: [1] });
    const reply = signers[0]!.handle(round1(S1));
    expect(reply).toMatchObject({ type: 'round1_pending', approvalTimeoutSec: 120 });
    expect(signers[0]!.pendingSessions).toBe(0);
    expect(signers[0]!.pendingApprovals()).toMatchObject([{ sessionId: S1, kind: 1, content: 'hi' }]);
    expect(signers[0]!.decideApproval(S1.slice(0, 8), true)).toEqual({ ok: true, message: `approved ${S1}` });
    expect(later).toMatchObject([{ type: 'round1_commitments', sessionId: S1 }]);
    expect(signers[0]!.pendingSessions).toBe(1);
    expect(signers[0]!.pendingApprovals()).toHaveLength(0);
  });

  it('sends a sticky refusal when the operator denies a held request', () => {
    const { signers, round1, later } = setup({ askKinds: [1] });
    signers[0]!.handle(round1(S1));
    signers[0]!.decideApproval(S1, false, 'not today');
    expect(later).toMatchObject([{ type: 'refusal', code: 'approval_denied', reason: 'not today' }]);
    expect(signers[0]!.decideApproval(S1, true)).toMatchObject({ ok: false });
  });

  it('refuses a held request when the operator does not decide in time', async () => {
    const { signers, round1, later } = setup({ askKinds: [1], approvalTimeoutSec: 1 });
    signers[0]!.handle(round1(S1));
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(later).toMatchObject([{ type: 'refusal', code: 'approval_timeout' }]);
  });

  it('counts approved events from its own log for rate limits', () => {
    const { signers, round1 } = setup({ rateLimits: { perMinute: 2, perHour: 600, perDay: 5000 } });
    expect(signers[0]!.handle(round1('1'.repeat(32), { content: 'a' }))).toMatchObject({ type: 'round1_commitments' });
    expect(signers[0]!.handle(round1('2'.repeat(32), { content: 'b' }))).toMatchObject({ type: 'round1_commitments' });
    expect(signers[0]!.handle(round1('3'.repeat(32), { content: 'c' }))).toMatchObject({ type: 'refusal', code: 'vetoed', reason: expect.stringMatching(/rate_limit/) });
  });

  it('signs once per session and refuses a second round 2 for it', () => {
    const { signers, round1, header } = setup();
    const r1 = round1(S1);
    const c1 = signers[0]!.handle(r1);
    const c2 = signers[1]!.handle(r1);
    if (c1.type !== 'round1_commitments' || c2.type !== 'round1_commitments') throw new Error('expected commitments');
    const round2: ToNodeMessage = { ...header(S1), type: 'round2_request', eventId: c1.eventId, commitments: [c1.commitments, c2.commitments] };
    expect(signers[0]!.handle(round2)).toMatchObject({ type: 'round2_share' });
    expect(signers[0]!.handle(round2)).toMatchObject({ type: 'refusal', code: 'unknown_session' });
    expect(signers[0]!.pendingSessions).toBe(0);
  });

  it('refuses a reused session id even after the session ended', () => {
    const { signers, round1 } = setup();
    expect(signers[0]!.handle(round1(S1))).toMatchObject({ type: 'round1_commitments' });
    expect(signers[0]!.handle(round1(S1, { content: 'other' }))).toMatchObject({ type: 'refusal', code: 'session_reused' });
  });

  it('refuses a round 2 for another event than the one approved in round 1', () => {
    const { signers, round1, header } = setup();
    const c1 = signers[0]!.handle(round1(S1));
    const c2 = signers[1]!.handle(round1(S1));
    if (c1.type !== 'round1_commitments' || c2.type !== 'round1_commitments') throw new Error('expected commitments');
    const other = round1('c'.repeat(32), { content: 'other' });
    if (other.type !== 'round1_request') throw new Error('unreachable');
    const reply = signers[0]!.handle({ ...header(S1), type: 'round2_request', eventId: other.eventId, commitments: [c1.commitments, c2.commitments] });
    expect(reply).toMatchObject({ type: 'refusal', code: 'event_mismatch' });
  });

  it('refuses a package whose commitment for this node is not the one it sent, burning the nonces', () => {
    const { signers, round1, header } = setup();
    const c1 = signers[0]!.handle(round1(S1));
    const c2 = signers[1]!.handle(round1(S1));
    if (c1.type !== 'round1_commitments' || c2.type !== 'round1_commitments') throw new Error('expected commitments');
    const forged = { ...c1.commitments, hiding: c2.commitments.hiding };
    const reply = signers[0]!.handle({ ...header(S1), type: 'round2_request', eventId: c1.eventId, commitments: [forged, c2.commitments] });
    expect(reply).toMatchObject({ type: 'refusal', code: 'bad_package' });
    expect(signers[0]!.pendingSessions).toBe(0);
  });

  it('refuses a package that names a non-member', () => {
    const { signers, round1, header } = setup();
    const c1 = signers[0]!.handle(round1(S1));
    if (c1.type !== 'round1_commitments') throw new Error('expected commitments');
    const stranger = { ...c1.commitments, identifier: identifierFromIndex(9) };
    const reply = signers[0]!.handle({ ...header(S1), type: 'round2_request', eventId: c1.eventId, commitments: [c1.commitments, stranger] });
    expect(reply).toMatchObject({ type: 'refusal', code: 'bad_package' });
  });

  it('answers a ping with its identifier and clock', () => {
    const { signers, header, group } = setup();
    const pong = signers[1]!.handle({ ...header(S1), type: 'ping' });
    expect(pong).toMatchObject({ type: 'pong', identifier: Object.keys(group.verifyingShares).sort()[1], nodeTimeSec: 1_800_000_000, frozen: false });
  });
});
