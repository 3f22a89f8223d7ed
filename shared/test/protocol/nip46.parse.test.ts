import { describe, expect, it } from 'vitest';
import { parseNip46Request, sanitize } from '../../src/protocol/nip46.js';

const pk = 'a'.repeat(64);

describe('parseNip46Request', () => {
  it('parses a sign_event request', () => {
    const parsed = parseNip46Request(JSON.stringify({ id: 'r1', method: 'sign_event', params: ['{"kind":1}'] }));
    expect(parsed).toEqual({ ok: true, request: { requestId: 'r1', method: 'sign_event', params: ['{"kind":1}'] } });
  });

  it('accepts connect with params[0] = "" as NDK sends it', () => {
    const parsed = parseNip46Request(JSON.stringify({ id: 'c', method: 'connect', params: ['', 'secret'] }));
    expect(parsed.ok).toBe(true);
  });

  it('accepts connect with the four params nostr-tools sends with client metadata', () => {
    const parsed = parseNip46Request(JSON.stringify({ id: 'c', method: 'connect', params: [pk, 's', '', '{"name":"x"}'] }));
    expect(parsed.ok).toBe(true);
  });

  it('tolerates unknown envelope fields and extra params on parameterless methods', () => {
    const parsed = parseNip46Request(JSON.stringify({ id: 'p', method: 'ping', params: ['x'], extra: 1 }));
    expect(parsed.ok && parsed.request.method).toBe('ping');
  });

  it('answers an unknown method with an error that keeps the request id', () => {
    const parsed = parseNip46Request(JSON.stringify({ id: 'u1', method: 'frobnicate', params: [] }));
    expect(parsed).toMatchObject({ ok: false, requestId: 'u1', error: { code: 'METHOD_UNKNOWN' } });
  });

  it('keeps the request id when params have the wrong types', () => {
    const parsed = parseNip46Request(JSON.stringify({ id: 'w', method: 'sign_event', params: [42] }));
    expect(parsed).toMatchObject({ ok: false, requestId: 'w', error: { code: 'PROTOCOL_INVALID' } });
  });

  it('recovers the id from an otherwise malformed envelope', () => {
    const parsed = parseNip46Request(JSON.stringify({ id: 'm', method: 7 }));
    expect(parsed).toMatchObject({ ok: false, requestId: 'm' });
  });

  it.each([
    ['not JSON', '{nope'],
    ['a JSON array', '[1,2]'],
    ['no id', JSON.stringify({ method: 'ping', params: [] })],
    ['an empty id', JSON.stringify({ id: '', method: 'ping' })],
    ['an oversized id', JSON.stringify({ id: 'x'.repeat(129), method: 'ping' })],
  ])('returns requestId null (nothing to reply to) for %s', (_name, content) => {
    const parsed = parseNip46Request(content);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.requestId).toBe(null);
  });

  it('refuses content over the NIP-44 plaintext limit before parsing', () => {
    const parsed = parseNip46Request(' '.repeat(70_000));
    expect(parsed).toMatchObject({ ok: false, error: { code: 'PROTOCOL_TOO_LARGE' } });
  });

  it('survives JSON nested 10,000 deep', () => {
    const deep = `${'['.repeat(10_000)}${']'.repeat(10_000)}`;
    expect(parseNip46Request(deep).ok).toBe(false);
  });

  it('rejects a nip44_encrypt peer that is not a 32-byte hex pubkey', () => {
    const parsed = parseNip46Request(JSON.stringify({ id: 'e', method: 'nip44_encrypt', params: ['npub1xyz', 'hi'] }));
    expect(parsed).toMatchObject({ ok: false, requestId: 'e' });
  });

  it('sanitises client strings before they reach messages and logs', () => {
    expect(sanitize('evil\nmethod\u0000\u202e')).toBe('evil?method??');
  });
});
