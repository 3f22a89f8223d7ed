import { describe, expect, it } from 'vitest';
import { computeEventId, dealerKeygen, groupXOnlyKey, identifierFromIndex } from '@frostbunker/shared/crypto';
import { silentLogger } from '@frostbunker/shared/logger';
import { computeGroupId, type GroupId, type SessionId, type ToNodeMessage } from '@frostbunker/shared/protocol';
import { ShareSigner } from '../src/signer/share-signer.js';

function setup() {
  const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3 });
  const members = shares.map((s, i) => ({ identifier: s.identifier, nodePubkey: String(i + 1).repeat(64), label: `node-${i + 1}` }));
  const groupId = computeGroupId({ ...group, members });
  const nowSec = 1_800_000_000;
  const signers = shares.map(
    (share) =>
      new ShareSigner({
        groupId,
        epoch: 0,
        group,
        groupPubkey: groupXOnlyKey(group),
        share,
        logger: silentLogger,
        nowSec: () => nowSec,
        monotonicMs: () => 0,
      }),
  );
  const event = { pubkey: groupXOnlyKey(group), created_at: nowSec, kind: 1, tags: [], content: 'hi' };
  const header = (sessionId: string) => ({ v: 1 as const, groupId, epoch: 0, sessionId: sessionId as SessionId });
  const round1 = (sessionId: string, overrides: Partial<typeof event> = {}, eventId?: string): ToNodeMessage => {
    const e = { ...event, ...overrides };
    return { ...header(sessionId), type: 'round1_request', event: e, eventId: (eventId ?? computeEventId(e)) as never };
  };
  return { group, signers, groupId, event, header, round1 };
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

  it('refuses created_at outside its window, naming the clock as a suspect', () => {
    const { signers, round1, event } = setup();
    const reply = signers[0]!.handle(round1(S1, { created_at: event.created_at + 601 }));
    expect(reply).toMatchObject({ code: 'created_at_window', reason: expect.stringMatching(/clock/) });
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
    expect(pong).toMatchObject({ type: 'pong', identifier: Object.keys(group.verifyingShares).sort()[1], nodeTimeSec: 1_800_000_000 });
  });
});
