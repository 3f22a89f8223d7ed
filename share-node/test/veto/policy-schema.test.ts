import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '@frostbunker/shared/errors';
import { DEFAULT_VETO_POLICY, parseVetoPolicy } from '../../src/veto/policy-schema.js';

const EXAMPLE_POLICY = new URL('../../examples/policy.json', import.meta.url);

function configErrorOf(value: unknown, source?: string): ConfigError {
  try {
    parseVetoPolicy(value, source);
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected parseVetoPolicy to throw');
}

describe('parseVetoPolicy', () => {
  it('turns an empty object into the default policy', () => {
    expect(parseVetoPolicy({})).toEqual(DEFAULT_VETO_POLICY);
    expect(parseVetoPolicy({ v: 1 })).toEqual(DEFAULT_VETO_POLICY);
  });

  it('ships the documented defaults', () => {
    expect(DEFAULT_VETO_POLICY).toEqual({
      v: 1,
      deniedKinds: [24133],
      askKinds: [0, 10002, 23194, 23195, 23196, 23197, 7374, 7375, 7376, 17375, 10019, 9734, 22242],
      createdAtWindowSec: 600,
      rateLimits: { perMinute: 60, perHour: 600, perDay: 5000 },
      contactList: { maxDropPercent: 10 },
      deletion: { maxEvents: 5 },
      httpAuth: { allowedUrlPrefixes: [] },
      encryptionKeyEvents: { allowedPubkeys: [] },
      plugins: [],
      approvalTimeoutSec: 120,
    });
  });

  it('keeps examples/policy.json equal to the defaults', () => {
    expect(parseVetoPolicy(JSON.parse(readFileSync(EXAMPLE_POLICY, 'utf8')))).toEqual(DEFAULT_VETO_POLICY);
  });

  it('fills the defaults of a partly written nested object', () => {
    expect(parseVetoPolicy({ rateLimits: { perMinute: 5 } }).rateLimits).toEqual({ perMinute: 5, perHour: 600, perDay: 5000 });
  });

  it('freezes the defaults and gives every parse its own lists', () => {
    expect(() => DEFAULT_VETO_POLICY.deniedKinds.push(1)).toThrow(TypeError);
    const parsed = parseVetoPolicy({});
    parsed.deniedKinds.push(1);
    expect(parseVetoPolicy({}).deniedKinds).toEqual([24133]);
  });

  const refused: Array<{ name: string; input: unknown; field: string; message?: RegExp }> = [
    { name: 'an unknown top-level field, naming it', input: { denyKinds: [1] }, field: 'denyKinds', message: /unknown field/ },
    { name: 'an unknown nested field, naming its path', input: { rateLimits: { perWeek: 10 } }, field: 'rateLimits.perWeek', message: /unknown field/ },
    { name: 'another format version', input: { v: 2 }, field: 'v' },
    { name: 'a limit given as a string', input: { rateLimits: { perHour: '600' } }, field: 'rateLimits.perHour', message: /number/ },
    { name: 'a kind that is not a number', input: { deniedKinds: [1, 'x'] }, field: 'deniedKinds[1]' },
    { name: 'a kind above 65535', input: { askKinds: [70_000] }, field: 'askKinds[0]' },
    { name: 'a fractional kind', input: { deniedKinds: [1.5] }, field: 'deniedKinds[0]' },
    { name: 'a list given as an object', input: { plugins: { a: 1 } }, field: 'plugins' },
    { name: 'a nested object given as a number', input: { deletion: 5 }, field: 'deletion' },
    { name: 'a negative per-minute limit', input: { rateLimits: { perMinute: -1 } }, field: 'rateLimits.perMinute', message: />=0/ },
    { name: 'a negative deletion limit', input: { deletion: { maxEvents: -1 } }, field: 'deletion.maxEvents' },
    { name: 'a negative drop percentage', input: { contactList: { maxDropPercent: -5 } }, field: 'contactList.maxDropPercent' },
    { name: 'a drop percentage above 100', input: { contactList: { maxDropPercent: 101 } }, field: 'contactList.maxDropPercent' },
    { name: 'a created_at window wider than ten minutes', input: { createdAtWindowSec: 3600 }, field: 'createdAtWindowSec', message: /at most 600/ },
    { name: 'a zero approval timeout', input: { approvalTimeoutSec: 0 }, field: 'approvalTimeoutSec' },
    { name: 'a URL prefix without scheme', input: { httpAuth: { allowedUrlPrefixes: ['api.example.com/'] } }, field: 'httpAuth.allowedUrlPrefixes[0]', message: /http\(s\) URL prefix/ },
    { name: 'an uppercase encryption pubkey', input: { encryptionKeyEvents: { allowedPubkeys: ['A'.repeat(64)] } }, field: 'encryptionKeyEvents.allowedPubkeys[0]', message: /lowercase hex/ },
    { name: 'an empty plugin path', input: { plugins: [''] }, field: 'plugins[0]' },
    { name: 'a policy that is not an object', input: [], field: '(root)' },
    { name: 'null', input: null, field: '(root)' },
  ];

  it.each(refused)('refuses $name', ({ input, field, message }) => {
    const error = configErrorOf(input);
    expect(error.code).toBe('CONFIG_INVALID');
    expect(error.field).toBe(field);
    expect(error.message.startsWith(`${field}: `)).toBe(true);
    if (message) expect(error.message).toMatch(message);
  });

  it('says how many more problems there are after the first', () => {
    const error = configErrorOf({ v: 2, deniedKinds: 'x', bogus: true });
    expect(error.field).toBe('v');
    expect(error.message).toMatch(/and 2 more problems/);
  });

  it('prefixes the field with the policy file path when given', () => {
    expect(configErrorOf({ rateLimits: { perHour: -1 } }, '/var/lib/node/policy.json').field).toBe('/var/lib/node/policy.json#rateLimits.perHour');
  });
});
