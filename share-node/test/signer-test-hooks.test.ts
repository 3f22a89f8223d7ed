import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { aggregateSignature, computeEventId, createSigningPackage, hexToBytes, verifySignatureShare, type SigningCommitments } from '@frostbunker/shared/crypto';
import { CheaterError } from '@frostbunker/shared/errors';
import type { EventId, FromNodeMessage } from '@frostbunker/shared/protocol';
import { BYZANTINE_SHARES, byzantineShareArmed, type ByzantineShare } from '../src/signer/byzantine.js';
import { commitmentHash, NonceLedger, openNonceLedger } from '../src/signer/nonce-ledger.js';
import type { SignerTestHooks } from '../src/signer/share-signer.js';
import { signerGroup } from './signer-group.js';

/** Share signers of a 2-of-3 group with test hooks, spoken to directly as the coordinator. */
function setup(hooks: (i: number) => SignerTestHooks) {
  const { dir, group, signers, header, event, pool } = signerGroup({ testHooks: hooks });

  /** One-round request to nodes 1 and 2 (node 3 votes); their replies. */
  function signOneRound(content: string): { eventId: EventId; commitments: SigningCommitments[]; replies: FromNodeMessage[] } {
    const e = event(content);
    const eventId = computeEventId(e) as EventId;
    const commitments = [pool(0, 1)[0]!, pool(1, 1)[0]!];
    const request = { ...header(2), type: 'sign_request' as const, event: e, eventId, commitments };
    return { eventId, commitments, replies: [signers[0]!.handle(request), signers[1]!.handle(request)] };
  }

  return { dir, group, signers, header, event, pool, signOneRound };
}

const shareOf = (reply: FromNodeMessage | undefined): string => {
  if (reply?.type !== 'sign_share' && reply?.type !== 'round2_share') throw new Error(`no share: ${JSON.stringify(reply)}`);
  return reply.signatureShare;
};

const ledgerLines = (path: string) =>
  readFileSync(path, 'utf8')
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { h: string; session: string; phase: string });

describe('share signer test hooks (RELIABILITY.md §3: ledger, failpoints, byzantine z_i)', () => {
  it('writes a ledger line per commitment issued and per partial signature, keyed by sha256(D‖E) only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frostbunker-ledger-'));
    const ledger = new NonceLedger(join(dir, 'node-1.jsonl'));
    const t = setup((i) => (i === 0 ? { ledger } : {}));
    const issued = t.pool(0, 3);
    const { commitments, replies } = t.signOneRound('ledgered');
    expect(replies[0]).toMatchObject({ type: 'sign_share' });
    const lines = ledgerLines(ledger.path);
    const own = commitments[0]!;
    const next = (replies[0] as { next: SigningCommitments[] }).next[0]!;
    expect(lines.filter((l) => l.phase === 'commit').map((l) => l.h)).toEqual([...issued, own, next].map(commitmentHash));
    expect(lines.filter((l) => l.phase === 'sign').map((l) => l.h)).toEqual([commitmentHash(own)]);
    // Nothing but the hash of the public commitments, the session and the phase.
    expect(lines.every((l) => Object.keys(l).sort().join() === 'h,phase,session')).toBe(true);
  });

  it('keeps the ledger off outside test mode, and says so', () => {
    const dir = mkdtempSync(join(tmpdir(), 'frostbunker-ledger-env-'));
    const warnings: string[] = [];
    expect(openNonceLedger({ FROSTBUNKER_NONCE_LEDGER_DIR: dir, NODE_ENV: 'production' }, 'node-1', (w) => warnings.push(w))).toBeUndefined();
    expect(openNonceLedger({ FROSTBUNKER_NONCE_LEDGER_DIR: dir, FROSTBUNKER_TEST_MODE: '1' }, 'node-1', (w) => warnings.push(w))).toBeUndefined();
    expect(warnings).toHaveLength(2);
    expect(warnings.every((w) => w.includes('ignored'))).toBe(true);
    const ledger = openNonceLedger({ FROSTBUNKER_NONCE_LEDGER_DIR: dir, FROSTBUNKER_TEST_MODE: '1', NODE_ENV: 'test' }, 'node-1', (w) => warnings.push(w));
    expect(ledger?.path).toBe(join(dir, 'node-1.jsonl'));
    expect(openNonceLedger({ NODE_ENV: 'test', FROSTBUNKER_TEST_MODE: '1' }, 'node-1', () => {})).toBeUndefined();
  });

  it('reaches round2.after_package once its commitment is consumed and round1.after_commit once a new one exists', () => {
    const hit: string[] = [];
    const t = setup((i) => (i === 0 ? { failpoint: (name) => void hit.push(name) } : {}));
    t.pool(0, 2);
    expect(hit).toEqual([]); // pre-sharing commitments is outside any round
    t.signOneRound('one round');
    expect(hit).toEqual(['round2.after_package', 'round1.after_commit']);
    hit.length = 0;
    const e = t.event('two rounds');
    const eventId = computeEventId(e) as EventId;
    const sessionId = randomBytes(16).toString('hex');
    const round1 = [0, 1].map((i) => t.signers[i]!.handle({ ...t.header(1, sessionId), type: 'round1_request', eventId, event: e }));
    expect(hit).toEqual(['round1.after_commit']);
    const commitments = round1.map((r) => (r.type === 'round1_commitments' ? r.commitments : undefined)!);
    t.signers[0]!.handle({ ...t.header(1, sessionId), type: 'round2_request', eventId, commitments });
    expect(hit).toEqual(['round1.after_commit', 'round2.after_package']);
  });

  it('dies (here: throws) at an armed failpoint before any reply exists', () => {
    const t = setup((i) => (i === 0 ? { failpoint: (name) => { if (name === 'round2.after_package') throw new Error(`failpoint ${name}`); } } : {}));
    expect(() => t.signOneRound('killed')).toThrow('failpoint round2.after_package');
  });

  it.each(BYZANTINE_SHARES.map((variant) => [variant]))('a byzantine node sending a %s z_i is caught by full-point share verification', (variant: ByzantineShare) => {
    const t = setup((i) => (i === 0 ? { byzantine: variant } : {}));
    const { eventId, commitments, replies } = t.signOneRound(`byzantine ${variant}`);
    const pkg = createSigningPackage(hexToBytes(eventId, 32), commitments);
    const [bad, good] = [shareOf(replies[0]), shareOf(replies[1])];
    expect(verifySignatureShare(t.group, pkg, commitments[0]!.identifier, bad)).toBe(false);
    expect(verifySignatureShare(t.group, pkg, commitments[1]!.identifier, good)).toBe(true);
    const aggregate = () => aggregateSignature(t.group, pkg, { [commitments[0]!.identifier]: bad, [commitments[1]!.identifier]: good });
    expect(aggregate).toThrow(CheaterError);
    expect(aggregate).toThrow(commitments[0]!.identifier);
  });

  it('a byzantine node still refuses a round 2 that does not name its commitment (a replay after a restart)', () => {
    const t = setup((i) => (i === 0 ? { byzantine: 'random' } : {}));
    const e = t.event('replayed');
    const eventId = computeEventId(e) as EventId;
    const sessionId = randomBytes(16).toString('hex');
    t.signers[0]!.handle({ ...t.header(1, sessionId), type: 'round1_request', eventId, event: e });
    const stale = t.pool(0, 1)[0]!; // another commitment of this node than the one round 1 made
    const other = t.pool(1, 1)[0]!;
    const reply = t.signers[0]!.handle({ ...t.header(1, sessionId), type: 'round2_request', eventId, commitments: [stale, other] });
    expect(reply).toMatchObject({ type: 'refusal', code: 'bad_package' });
  });

  it('arms a byzantine variant only through its failpoint name', () => {
    expect(byzantineShareArmed(new Map([['round2.byzantine_negated', 'throw']]))).toBe('negated');
    expect(byzantineShareArmed(new Map([['round2.before_send', 'kill']]))).toBeUndefined();
    expect(byzantineShareArmed(new Map())).toBeUndefined();
  });
});
