import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Nip46Method } from '@frostbunker/shared/protocol';
import { SENSITIVE_KINDS } from '../../src/acl/kind-risk.js';
import { isLive } from '../../src/acl/liveness.js';
import type { AclRequest, AclRows, Denial, Grant, KindScope, RuleName, Subject, TrustLevel } from '../../src/acl/types.js';
import { decideVerdict } from '../../src/acl/verdict.js';
import { ALL_METHODS, CLIENT, NOW, OTHER_CLIENT, fastCheckSeed } from './fixtures.js';

/*
 * RELIABILITY.md G15(a): ACL verdict properties, 10,000 runs in all. The seed is printed; re-run a
 * failure with FC_SEED=<seed> (fast-check's own report also names the seed and the shrunk path).
 */
const SEED = fastCheckSeed('verdict.property');
const RUNS_PER_PROPERTY = 1_250; // × 8 properties = 10,000
const params = { seed: SEED, numRuns: RUNS_PER_PROPERTY };

const SENSITIVE = [...SENSITIVE_KINDS];
const kindArb = fc.oneof(fc.constantFrom(1, 7, 30_023, ...SENSITIVE), fc.integer({ min: 0, max: 65_535 }));
const kindScopeArb: fc.Arbitrary<KindScope | undefined> = fc.oneof(kindArb, fc.constant('*' as const), fc.constant(undefined));
/** Bounds clustered around NOW so that the ±1 s edges come up often. */
const boundArb = fc.option(fc.integer({ min: NOW - 3, max: NOW + 3 }), { nil: undefined });
const clientArb = fc.oneof({ weight: 4, arbitrary: fc.constant(CLIENT) }, { weight: 1, arbitrary: fc.constant(OTHER_CLIENT) });
const trustArb = fc.constantFrom<TrustLevel>('paranoid', 'reasonable', 'full');
const methodArb = fc.constantFrom(...ALL_METHODS);

const requestArb: fc.Arbitrary<AclRequest> = fc.oneof(
  kindArb.map((kind) => ({ clientPubkey: CLIENT, method: Nip46Method.signEvent, kind })),
  methodArb.map((method) => (method === Nip46Method.signEvent ? { clientPubkey: CLIENT, method, kind: 1 } : { clientPubkey: CLIENT, method })),
);

const subjectArb: fc.Arbitrary<Subject> = fc.record(
  {
    clientPubkey: clientArb,
    trustLevel: trustArb,
    revokedAtSec: fc.integer({ min: NOW - 100, max: NOW + 100 }),
    suspension: fc.record({ untilSec: fc.integer({ min: NOW - 3, max: NOW + 3 }), reason: fc.string(), actor: fc.string() }),
  },
  { requiredKeys: ['clientPubkey', 'trustLevel'] },
);

/** Ids from a small pool so that collisions (and the id tie-break) are exercised. */
const grantArb: fc.Arbitrary<Grant> = fc.record({
  grantId: fc.constantFrom('g0', 'g1', 'g2', 'g3', 'g4', 'g5'),
  clientPubkey: clientArb,
  method: fc.oneof(fc.constant(Nip46Method.signEvent), methodArb),
  kind: kindScopeArb,
  notBeforeSec: boundArb,
  expiresAtSec: boundArb,
  usageCap: fc.option(fc.record({ max: fc.nat(4), windowSec: fc.constant(60) }), { nil: undefined }),
  source: fc.constantFrom('explicit' as const, 'token' as const),
});

const denialArb: fc.Arbitrary<Denial> = fc.record({
  denialId: fc.constantFrom('d0', 'd1', 'd2', 'd3'),
  clientPubkey: clientArb,
  method: fc.oneof(fc.constant('*' as const), methodArb),
  kind: kindScopeArb,
  untilSec: boundArb,
  reason: fc.string(),
  actor: fc.string(),
});

const rowsArb: fc.Arbitrary<AclRows> = fc
  .record({
    subject: fc.option(subjectArb, { freq: 8, nil: undefined }),
    grants: fc.array(grantArb, { maxLength: 8 }),
    denials: fc.array(denialArb, { maxLength: 3 }),
    usage: fc.array(fc.tuple(fc.constantFrom('g0', 'g1', 'g2', 'g3', 'g4', 'g5'), fc.nat(6)), { maxLength: 6 }),
  })
  .map(({ usage, ...rest }) => ({ ...rest, usage: new Map(usage) }));

const nowArb = fc.integer({ min: NOW - 4, max: NOW + 4 });
const SUBJECT_DENIALS: readonly RuleName[] = ['unknown_subject', 'subject_revoked', 'subject_suspended'];

/** A denial that certainly covers `request` and is in force at `nowSec`. */
const coveringDenialArb = (request: AclRequest, nowSec: number): fc.Arbitrary<Denial> =>
  fc.record({
    denialId: fc.constantFrom('d0', 'd9', 'zz'),
    clientPubkey: fc.constant(request.clientPubkey),
    method: fc.constantFrom('*' as const, request.method),
    kind: fc.constantFrom<KindScope | undefined>(undefined, '*', request.kind ?? '*'),
    untilSec: fc.option(fc.integer({ min: nowSec + 1, max: nowSec + 1_000 }), { nil: undefined }),
    reason: fc.string(),
    actor: fc.string(),
  });

describe('decideVerdict (properties, G15a)', () => {
  it('denies whenever an in-force denial covers the request, whatever the grants or trust level', () => {
    const arb = fc
      .tuple(rowsArb, requestArb, nowArb)
      .chain(([rows, request, nowSec]) => fc.tuple(fc.constant(rows), fc.constant(request), fc.constant(nowSec), coveringDenialArb(request, nowSec)));
    fc.assert(
      fc.property(arb, ([rows, request, nowSec, extra]) => {
        const verdict = decideVerdict({ ...rows, denials: [...rows.denials, extra] }, request, nowSec);
        expect(verdict.decision).toBe('deny');
        expect([...SUBJECT_DENIALS, 'denial']).toContain(verdict.rule.rule);
      }),
      params,
    );
  });

  it('does not depend on the order of grant and denial rows', () => {
    const arb = fc.tuple(rowsArb, requestArb, nowArb).chain(([rows, request, nowSec]) =>
      fc.tuple(
        fc.constant(rows),
        fc.constant(request),
        fc.constant(nowSec),
        fc.shuffledSubarray([...rows.grants], { minLength: rows.grants.length }),
        fc.shuffledSubarray([...rows.denials], { minLength: rows.denials.length }),
      ),
    );
    fc.assert(
      fc.property(arb, ([rows, request, nowSec, grants, denials]) => {
        expect(decideVerdict({ ...rows, grants, denials }, request, nowSec)).toStrictEqual(decideVerdict(rows, request, nowSec));
      }),
      params,
    );
  });

  it('denies every request of a revoked subject', () => {
    fc.assert(
      fc.property(rowsArb, subjectArb, fc.integer(), requestArb, nowArb, (rows, subject, revokedAtSec, request, nowSec) => {
        const revoked = { ...subject, clientPubkey: request.clientPubkey, revokedAtSec };
        expect(decideVerdict({ ...rows, subject: revoked }, request, nowSec)).toStrictEqual({
          decision: 'deny',
          rule: { rule: 'subject_revoked', revokedAtSec },
        });
      }),
      params,
    );
  });

  it('denies every request of a subject suspended until after now (unless revoked, which names itself)', () => {
    fc.assert(
      fc.property(rowsArb, subjectArb, fc.integer({ min: 1, max: 10_000 }), requestArb, nowArb, (rows, subject, aheadSec, request, nowSec) => {
        const suspension = { untilSec: nowSec + aheadSec, reason: 'r', actor: 'a' };
        const suspended = { ...subject, clientPubkey: request.clientPubkey, suspension };
        const verdict = decideVerdict({ ...rows, subject: suspended }, request, nowSec);
        expect(verdict.decision).toBe('deny');
        expect(verdict.rule.rule).toBe(subject.revokedAtSec === undefined ? 'subject_suspended' : 'subject_revoked');
      }),
      params,
    );
  });

  it('never allows through a grant that is not live, and dead grants act as if swept', () => {
    fc.assert(
      fc.property(rowsArb, requestArb, nowArb, (rows, request, nowSec) => {
        const verdict = decideVerdict(rows, request, nowSec);
        const { rule } = verdict;
        if (rule.rule === 'grant_exact' || rule.rule === 'grant_wildcard' || rule.rule === 'usage_cap_exhausted') {
          const named = rows.grants.filter((g) => g.grantId === rule.grantId && g.clientPubkey === request.clientPubkey);
          // Some row with that id is live (deadline: expiresAt ≤ now is never named).
          expect(named.some((g) => isLive(g, nowSec))).toBe(true);
          expect(named.some((g) => g.expiresAtSec === undefined || g.expiresAtSec > nowSec)).toBe(true);
        }
        const swept = { ...rows, grants: rows.grants.filter((g) => isLive(g, nowSec)) };
        expect(decideVerdict(swept, request, nowSec)).toStrictEqual(verdict);
      }),
      params,
    );
  });

  it('never allows a sensitive kind without a live exact-kind grant', () => {
    const sensitiveRequest = fc.constantFrom(...SENSITIVE).map((kind): AclRequest => ({ clientPubkey: CLIENT, method: Nip46Method.signEvent, kind }));
    fc.assert(
      fc.property(rowsArb, sensitiveRequest, nowArb, (rows, request, nowSec) => {
        const verdict = decideVerdict(rows, request, nowSec);
        if (verdict.decision !== 'allow') return;
        const { rule } = verdict;
        expect(rule.rule).toBe('grant_exact');
        const grantId = rule.rule === 'grant_exact' ? rule.grantId : '';
        const exact = rows.grants.filter(
          (g) => g.grantId === grantId && g.clientPubkey === CLIENT && g.method === Nip46Method.signEvent && g.kind === request.kind,
        );
        expect(exact.some((g) => isLive(g, nowSec))).toBe(true);
      }),
      params,
    );
  });

  it('names the exact-kind grant whenever a usable exact grant and a usable wildcard grant both cover an ordinary kind', () => {
    const ordinaryKind = fc.integer({ min: 0, max: 65_535 }).filter((k) => !SENSITIVE_KINDS.has(k));
    fc.assert(
      fc.property(trustArb, ordinaryKind, fc.string(), fc.string(), (trustLevel, kind, exactId, wildId) => {
        const rows: AclRows = {
          subject: { clientPubkey: CLIENT, trustLevel },
          grants: [
            { grantId: wildId, clientPubkey: CLIENT, method: Nip46Method.signEvent, kind: '*', source: 'explicit' },
            { grantId: exactId, clientPubkey: CLIENT, method: Nip46Method.signEvent, kind, source: 'token' },
          ],
          denials: [],
          usage: new Map(),
        };
        const verdict = decideVerdict(rows, { clientPubkey: CLIENT, method: Nip46Method.signEvent, kind }, NOW);
        expect(verdict).toStrictEqual({ decision: 'allow', rule: { rule: 'grant_exact', grantId: exactId } });
      }),
      params,
    );
  });

  it('is total: never throws, even on NaN, infinite or out-of-range numbers and odd strings', () => {
    const wildNumber = fc.oneof(fc.double(), fc.integer(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0));
    const wildRows = fc.record({
      subject: fc.option(
        fc.record({
          clientPubkey: fc.oneof(fc.constant(CLIENT), fc.string()),
          trustLevel: fc.oneof(trustArb, fc.string()) as fc.Arbitrary<TrustLevel>,
          revokedAtSec: fc.option(wildNumber, { nil: undefined }),
          suspension: fc.option(fc.record({ untilSec: wildNumber, reason: fc.string(), actor: fc.string() }), { nil: undefined }),
        }),
        { nil: undefined },
      ),
      grants: fc.array(
        fc.record({
          grantId: fc.string(),
          clientPubkey: fc.oneof(fc.constant(CLIENT), fc.string()),
          method: methodArb,
          kind: fc.oneof(wildNumber, fc.constant('*' as const), fc.constant(undefined)),
          notBeforeSec: fc.option(wildNumber, { nil: undefined }),
          expiresAtSec: fc.option(wildNumber, { nil: undefined }),
          usageCap: fc.option(fc.record({ max: wildNumber, windowSec: wildNumber }), { nil: undefined }),
          source: fc.constantFrom('explicit' as const, 'token' as const),
        }),
        { maxLength: 5 },
      ),
      denials: fc.array(
        fc.record({
          denialId: fc.string(),
          clientPubkey: fc.oneof(fc.constant(CLIENT), fc.string()),
          method: fc.oneof(fc.constant('*' as const), methodArb),
          kind: fc.oneof(wildNumber, fc.constant('*' as const), fc.constant(undefined)),
          untilSec: fc.option(wildNumber, { nil: undefined }),
          reason: fc.string(),
          actor: fc.string(),
        }),
        { maxLength: 3 },
      ),
      usage: fc.array(fc.tuple(fc.string(), wildNumber), { maxLength: 5 }).map((entries) => new Map(entries)),
    });
    const wildRequest = fc.record({
      clientPubkey: fc.oneof(fc.constant(CLIENT), fc.string()),
      method: methodArb,
      kind: fc.option(wildNumber, { nil: undefined }),
    });
    fc.assert(
      fc.property(wildRows, wildRequest, wildNumber, (rows, request, nowSec) => {
        const verdict = decideVerdict(rows, request, nowSec);
        expect(['allow', 'deny', 'ask']).toContain(verdict.decision);
      }),
      params,
    );
  });
});
