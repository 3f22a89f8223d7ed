import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ProtocolError } from '@frostbunker/shared/errors';
import { Nip46Method } from '@frostbunker/shared/protocol';
import {
  MAX_PERMS_CHARS,
  canonicalPerms,
  formatPerms,
  grantTemplatesFromPerms,
  parsePerms,
  safeParsePerms,
  type PermSpec,
} from '../../src/acl/perms.js';
import { ALL_METHODS, NON_SIGNING_METHODS, fastCheckSeed } from './fixtures.js';

const SEED = fastCheckSeed('perms');

const specArb: fc.Arbitrary<PermSpec> = fc.oneof(
  fc.oneof(fc.integer({ min: 0, max: 65_535 }), fc.constant('*' as const)).map((kind): PermSpec => ({ method: Nip46Method.signEvent, kind })),
  fc.constantFrom(...NON_SIGNING_METHODS).map((method) => ({ method }) as PermSpec),
);

/** Strings made of perms tokens and junk, so that both the ok and the error paths come up. */
const permsLikeArb = fc
  .array(fc.oneof(fc.constantFrom(...ALL_METHODS, ':', ',', ' ', '\t', '*', '0', '65535', '65536', '-1'), fc.string({ maxLength: 4 })), {
    maxLength: 40,
  })
  .map((parts) => parts.join(''));

function problemsOf(text: string) {
  const result = safeParsePerms(text);
  if (result.ok) throw new Error(`expected ${JSON.stringify(text)} to fail`);
  return result;
}

describe('parsePerms', () => {
  it('parses the INTEROP.md example into canonical specs', () => {
    expect(parsePerms('sign_event:1,sign_event:7,nip44_encrypt')).toStrictEqual([
      { method: Nip46Method.nip44Encrypt },
      { method: Nip46Method.signEvent, kind: 1 },
      { method: Nip46Method.signEvent, kind: 7 },
    ]);
  });

  it('reads bare sign_event and sign_event:* alike as every kind', () => {
    expect(parsePerms('sign_event')).toStrictEqual([{ method: Nip46Method.signEvent, kind: '*' }]);
    expect(parsePerms('sign_event:*')).toStrictEqual([{ method: Nip46Method.signEvent, kind: '*' }]);
  });

  it('accepts every NIP-46 method by name', () => {
    expect(parsePerms(ALL_METHODS.join(',')).map((p) => p.method).sort()).toStrictEqual([...ALL_METHODS].sort());
  });

  it('returns no perms for the empty string', () => {
    expect(parsePerms('')).toStrictEqual([]);
    expect(parsePerms('  ')).toStrictEqual([]);
  });

  it('tolerates whitespace around items, methods and kinds, and skips empty items', () => {
    expect(parsePerms(' sign_event : 1 ,\tnip44_encrypt ,, get_public_key,\n')).toStrictEqual([
      { method: Nip46Method.getPublicKey },
      { method: Nip46Method.nip44Encrypt },
      { method: Nip46Method.signEvent, kind: 1 },
    ]);
  });

  it('collapses duplicates but keeps an exact kind beside the wildcard (sensitive kinds need it)', () => {
    expect(parsePerms('ping,ping,sign_event:0,sign_event:00,sign_event,sign_event:*')).toStrictEqual([
      { method: Nip46Method.ping },
      { method: Nip46Method.signEvent, kind: '*' },
      { method: Nip46Method.signEvent, kind: 0 },
    ]);
  });

  it('refuses an unknown method with an error naming it, and keeps the valid items for display only', () => {
    const result = problemsOf('sign_event:1,sign_psbt,delete_everything:3');
    expect(result.error).toBeInstanceOf(ProtocolError);
    expect(result.error.code).toBe('METHOD_UNKNOWN');
    expect(result.error.message).toContain('sign_psbt');
    expect(result.error.message).toContain('delete_everything:3');
    expect(result.problems).toStrictEqual([
      { item: 'sign_psbt', problem: 'unknown_method' },
      { item: 'delete_everything:3', problem: 'unknown_method' },
    ]);
    expect(result.recognized).toStrictEqual([{ method: Nip46Method.signEvent, kind: 1 }]);
    expect(() => parsePerms('sign_psbt')).toThrow(/unknown method in "sign_psbt"/);
  });

  it('treats method names as case-sensitive', () => {
    expect(problemsOf('SIGN_EVENT:1').problems).toStrictEqual([{ item: 'SIGN_EVENT:1', problem: 'unknown_method' }]);
  });

  it.each(['sign_event:x', 'sign_event:', 'sign_event:-1', 'sign_event:+1', 'sign_event:1.0', 'sign_event:0x10', 'sign_event:65536', 'sign_event:1:2', 'sign_event:123456'])(
    'refuses the non-kind param in %s',
    (text) => {
      const result = problemsOf(text);
      expect(result.error.code).toBe('PROTOCOL_INVALID');
      expect(result.problems).toStrictEqual([{ item: text, problem: 'invalid_kind' }]);
      expect(result.error.message).toContain(text);
    },
  );

  it('accepts the largest kind, 65535', () => {
    expect(parsePerms('sign_event:65535')).toStrictEqual([{ method: Nip46Method.signEvent, kind: 65_535 }]);
  });

  it('refuses a param on a method other than sign_event rather than silently widening it', () => {
    expect(problemsOf('nip44_encrypt:' + 'a'.repeat(64)).problems[0]?.problem).toBe('unexpected_param');
    expect(problemsOf('get_public_key:').problems[0]?.problem).toBe('unexpected_param');
  });

  it('sanitises what it echoes: control characters are replaced and items are bounded', () => {
    const [problem] = problemsOf(`evil\u0000\u001b[31m${'x'.repeat(200)}`).problems;
    expect(problem?.item).toMatch(/^[\x20-\x7e]{1,64}$/);
  });

  it('names at most five problems in the message but lists them all', () => {
    const text = Array.from({ length: 9 }, (_, i) => `bad${i}`).join(',');
    const result = problemsOf(text);
    expect(result.problems).toHaveLength(9);
    expect(result.error.message).toContain('bad4');
    expect(result.error.message).not.toContain('bad5');
    expect(result.error.message).toContain('and 4 more');
  });

  it(`refuses input longer than ${MAX_PERMS_CHARS} characters before parsing it`, () => {
    const atLimit = 'ping' + ' '.repeat(MAX_PERMS_CHARS - 4);
    expect(atLimit).toHaveLength(MAX_PERMS_CHARS);
    expect(parsePerms(atLimit)).toStrictEqual([{ method: Nip46Method.ping }]);
    expect(problemsOf(atLimit + ' ').error.code).toBe('PROTOCOL_TOO_LARGE');
    const huge = 'sign_event:1,'.repeat(100_000);
    const result = problemsOf(huge);
    expect(result.error.code).toBe('PROTOCOL_TOO_LARGE');
    expect(result.problems).toStrictEqual([]);
    expect(problemsOf('p'.repeat(MAX_PERMS_CHARS + 1)).error.code).toBe('PROTOCOL_TOO_LARGE');
  });

  it('never throws from safeParsePerms, for any string', () => {
    fc.assert(
      fc.property(fc.oneof(permsLikeArb, fc.string({ unit: 'grapheme', maxLength: 300 })), (text) => {
        const result = safeParsePerms(text);
        // Whatever parses is canonical: formatting it and parsing again changes nothing.
        if (result.ok) expect(parsePerms(formatPerms(result.perms))).toStrictEqual(result.perms);
        else expect(result.error).toBeInstanceOf(ProtocolError);
      }),
      { seed: SEED, numRuns: 1_000 },
    );
  });
});

describe('formatPerms', () => {
  it('writes the canonical string: sorted, deduplicated, bare sign_event for every kind', () => {
    expect(
      formatPerms([
        { method: Nip46Method.signEvent, kind: 7 },
        { method: Nip46Method.nip44Encrypt },
        { method: Nip46Method.signEvent, kind: '*' },
        { method: Nip46Method.signEvent, kind: 1 },
        { method: Nip46Method.nip44Encrypt },
      ]),
    ).toBe('nip44_encrypt,sign_event,sign_event:1,sign_event:7');
  });

  it('writes the empty string for no perms', () => {
    expect(formatPerms([])).toBe('');
  });

  it('refuses a kind no perms string can express', () => {
    expect(() => formatPerms([{ method: Nip46Method.signEvent, kind: 1.5 }])).toThrow(ProtocolError);
    expect(() => formatPerms([{ method: Nip46Method.signEvent, kind: 70_000 }])).toThrow(/0\.\.65535/);
  });

  it('round-trips: parse(format(specs)) is the canonical form of specs, and format is idempotent', () => {
    fc.assert(
      fc.property(fc.array(specArb, { maxLength: 20 }), (specs) => {
        const text = formatPerms(specs);
        expect(parsePerms(text)).toStrictEqual(canonicalPerms(specs));
        expect(formatPerms(parsePerms(text))).toBe(text);
      }),
      { seed: SEED, numRuns: 1_000 },
    );
  });
});

describe('grantTemplatesFromPerms', () => {
  it('turns each perm into exactly one grant template, carrying the options', () => {
    const templates = grantTemplatesFromPerms(parsePerms('sign_event:1,nip44_encrypt,sign_event:1'), {
      expiresAtSec: 1_900_000_000,
      usageCap: { max: 10, windowSec: 60 },
    });
    expect(templates).toStrictEqual([
      { method: Nip46Method.nip44Encrypt, expiresAtSec: 1_900_000_000, usageCap: { max: 10, windowSec: 60 } },
      { method: Nip46Method.signEvent, kind: 1, expiresAtSec: 1_900_000_000, usageCap: { max: 10, windowSec: 60 } },
    ]);
  });

  it('keeps the wildcard explicit and adds no fields it was not given', () => {
    expect(grantTemplatesFromPerms(parsePerms('sign_event'))).toStrictEqual([{ method: Nip46Method.signEvent, kind: '*' }]);
    expect(grantTemplatesFromPerms([], { expiresAtSec: 1 })).toStrictEqual([]);
  });

  it('does not share the usage-cap object between templates', () => {
    const usageCap = { max: 1, windowSec: 60 };
    const [a, b] = grantTemplatesFromPerms(parsePerms('ping,logout'), { usageCap });
    expect(a?.usageCap).not.toBe(usageCap);
    expect(a?.usageCap).not.toBe(b?.usageCap);
  });
});
