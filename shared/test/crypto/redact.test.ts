import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { commit, dealerKeygen } from '../../src/crypto/frost.js';
import { REDACTED, redact } from '../../src/crypto/redact.js';
import { seededRng } from './frost-helpers.js';

const { shares } = dealerKeygen({ threshold: 2, maxSigners: 2, rng: seededRng(9) });
const share = shares[0]!;
const secretHex = share.toHex();
const { nonces } = commit(share);

describe('redaction of secrets', () => {
  it.each([
    ['SigningShare', share],
    ['SigningNonces', nonces],
  ])('prints a %s as <redacted> through String, templates, JSON and util.inspect', (_name, secret) => {
    expect(String(secret)).toBe(REDACTED);
    expect(`${secret}`).toBe(REDACTED);
    expect(JSON.stringify(secret)).toBe(JSON.stringify(REDACTED));
    expect(JSON.stringify({ secret })).toBe(`{"secret":"${REDACTED}"}`);
    expect(inspect(secret)).toBe(REDACTED);
    expect(inspect({ nested: [secret] }, { depth: 10, showHidden: true })).toContain(REDACTED);
  });

  it('never shows the share bytes in any of those renderings, nor in own properties', () => {
    const renderings = [String(share), JSON.stringify({ share }), inspect({ share }, { depth: 10, showHidden: true })];
    for (const text of renderings) expect(text).not.toContain(secretHex);
    expect(JSON.stringify(Object.entries(share))).not.toContain(secretHex);
    expect(inspect(structuredClone({ ...share }), { depth: 10 })).not.toContain(secretHex);
    expect(share.toHex()).toBe(secretHex);
  });

  it('keeps public fields readable', () => {
    expect(share.identifier).toMatch(/^[0-9a-f]{64}$/);
    expect(nonces.commitments.hiding).toMatch(/^0[23][0-9a-f]{64}$/);
  });

  it('redact() returns the placeholder whatever it is given', () => {
    expect(redact(secretHex)).toBe(REDACTED);
    expect(redact(undefined)).toBe('<redacted>');
  });
});
