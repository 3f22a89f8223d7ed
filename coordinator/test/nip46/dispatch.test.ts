import { describe, expect, it } from 'vitest';
import { FrostbunkerError } from '@frostbunker/shared/errors';
import type { Nip46Request, UnsignedEventMessage, XOnlyPubkey } from '@frostbunker/shared/protocol';
import { dispatchNip46, type Nip46Context, type ReplyChannel } from '../../src/nip46/dispatch.js';

const transportPubkey = 't'.repeat(0) + '1'.repeat(64);
const userPubkey = '2'.repeat(64);
const client = '3'.repeat(64) as XOnlyPubkey;
const secret = '0123456789abcdef0123456789abcdef';

/** Stand-in for nip46/acl-gate.ts (tested against SQLite in acl-gate.test.ts): one token, kind 0 asks. */
function context(overrides: Partial<Nip46Context> = {}) {
  const clients = new Set<string>();
  const signed: UnsignedEventMessage[] = [];
  const authorized: { method: string; kind?: number; eventId?: string }[] = [];
  const ctx: Nip46Context = {
    transportPubkey: transportPubkey as XOnlyPubkey,
    userPubkey: userPubkey as XOnlyPubkey,
    relays: ['ws://127.0.0.1:1'],
    acl: {
      connect: (c, given) => {
        if (given === secret || (given === '' && clients.has(c))) return void clients.add(c);
        throw new FrostbunkerError('ACL_DENIED', 'invalid, expired or already used connection token');
      },
      authorize: ({ clientPubkey, method, kind, eventId }) => {
        if (!clients.has(clientPubkey)) throw new FrostbunkerError('ACL_DENIED', 'denied: unknown client');
        authorized.push({ method, ...(kind === undefined ? {} : { kind }), ...(eventId === undefined ? {} : { eventId }) });
        return kind === 0 ? { decision: 'ask', reason: 'kind 0 is sensitive and needs an explicit grant' } : { decision: 'allow' };
      },
      logout: (c) => void clients.delete(c),
    },
    // Approvals are covered against SQLite in approvals/approval-flow.test.ts; here every ask is denied.
    approvals: {
      awaitOperator: async (_subject, reason, tellClient) => {
        await tellClient('http://127.0.0.1:1/approvals/apr_0000000000000000');
        throw new FrostbunkerError('ACL_DENIED', `denied by the operator (${reason})`);
      },
      resume: async () => undefined,
      openNodeWait: () => ({ approvalId: 'apr_0000000000000001', url: 'http://127.0.0.1:1/approvals/apr_0000000000000001' }),
      settleNodeWait: () => undefined,
      markAnswered: () => undefined,
      unanswered: () => [],
    },
    sign: async (event) => {
      signed.push(event);
      return { ...event, id: 'i'.repeat(64), sig: 's'.repeat(128) };
    },
    encryption: {
      nip44Encrypt: (peer, text) => `nip44(${peer.slice(0, 4)},${text})`,
      nip44Decrypt: (_peer, payload) => {
        if (!payload.startsWith('ok:')) throw new FrostbunkerError('PROTOCOL_INVALID', 'cannot decrypt: payload is not for any encryption key of this identity');
        return payload.slice(3);
      },
      nip04Encrypt: (peer, text) => `nip04(${peer.slice(0, 4)},${text})`,
      nip04Decrypt: (_peer, payload) => payload.toUpperCase(),
    },
    ...overrides,
  };
  return { ctx, clients, signed, authorized };
}

const request = (method: string, params: string[]) => ({ requestId: 'r', method, params }) as Nip46Request;
const interim: unknown[] = [];
const channel: ReplyChannel = { scheme: 'nip44', sendInterim: async (response) => void interim.push(response) };
const connected = () => {
  const c = context();
  c.clients.add(client);
  return c;
};

describe('dispatchNip46', () => {
  it.each([[''], [transportPubkey], [userPubkey]])('acks connect addressed to "%s" with the right secret', async (target) => {
    const { ctx, clients } = context();
    expect(await dispatchNip46(request('connect', [target, secret]), client, ctx, channel)).toEqual({ id: 'r', result: 'ack' });
    expect(clients.has(client)).toBe(true);
  });

  it('refuses connect with a wrong or missing secret, with result "" and an error', async () => {
    const { ctx, clients } = context();
    expect(await dispatchNip46(request('connect', ['', 'wrong']), client, ctx, channel)).toEqual({
      id: 'r',
      result: '',
      error: 'invalid, expired or already used connection token',
    });
    expect((await dispatchNip46(request('connect', [transportPubkey]), client, ctx, channel)).error).toMatch(/token/);
    expect(clients.size).toBe(0);
  });

  it('refuses connect addressed to another signer', async () => {
    const { ctx } = context();
    expect((await dispatchNip46(request('connect', ['9'.repeat(64), secret]), client, ctx, channel)).error).toMatch(/another signer/);
  });

  it('acks a connected client that reconnects without the secret', async () => {
    const { ctx } = connected();
    expect((await dispatchNip46(request('connect', ['']), client, ctx, channel)).result).toBe('ack');
  });

  it.each(['get_public_key', 'ping', 'switch_relays', 'logout'])('gates %s through the ACL', async (method) => {
    const { ctx } = context();
    expect((await dispatchNip46(request(method, []), client, ctx, channel)).error).toMatch(/unknown client/);
  });

  it('authorizes sign_event with the exact kind and event id before any signing round', async () => {
    const { ctx, authorized, signed } = connected();
    await dispatchNip46(request('sign_event', [JSON.stringify({ kind: 7, content: '+', tags: [], created_at: 1 })]), client, ctx, channel);
    expect(authorized).toEqual([{ method: 'sign_event', kind: 7, eventId: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    expect(signed).toHaveLength(1);
  });

  it('returns the user pubkey, never the transport pubkey', async () => {
    const { ctx } = connected();
    expect((await dispatchNip46(request('get_public_key', []), client, ctx, channel)).result).toBe(userPubkey);
  });

  it('signs a template without changing created_at, tags or content, ignoring a supplied id', async () => {
    const { ctx, signed } = connected();
    const template = { kind: 1, content: 'hi "there"', tags: [['e', 'x'], ['p', 'y', 'z']], created_at: 1_700_000_000, id: 'bogus' };
    const reply = await dispatchNip46(request('sign_event', [JSON.stringify(template)]), client, ctx, channel);
    expect(reply.error).toBeUndefined();
    expect(signed).toEqual([{ pubkey: userPubkey, kind: 1, content: template.content, tags: template.tags, created_at: template.created_at }]);
    expect(JSON.parse(reply.result).id).toBe('i'.repeat(64));
  });

  it('accepts a supplied pubkey equal to the user pubkey and refuses any other', async () => {
    const { ctx } = connected();
    const base = { kind: 1, content: '', tags: [], created_at: 1 };
    expect((await dispatchNip46(request('sign_event', [JSON.stringify({ ...base, pubkey: userPubkey })]), client, ctx, channel)).error).toBeUndefined();
    expect((await dispatchNip46(request('sign_event', [JSON.stringify({ ...base, pubkey: transportPubkey })]), client, ctx, channel)).error).toMatch(/pubkey/);
  });

  it('sends auth_url for a request the ACL asks about and, once the operator denies it, an error reply without any signing round', async () => {
    const { ctx, signed } = connected();
    interim.length = 0;
    const reply = await dispatchNip46(request('sign_event', [JSON.stringify({ kind: 0, content: '', tags: [], created_at: 1 })]), client, ctx, channel);
    expect(interim).toEqual([{ id: 'r', result: 'auth_url', error: 'http://127.0.0.1:1/approvals/apr_0000000000000000' }]);
    expect(reply).toMatchObject({ id: 'r', result: '', error: expect.stringMatching(/denied by the operator.*sensitive/) });
    expect(signed).toHaveLength(0);
  });

  it.each([
    ['not JSON', '{'],
    ['a template with a string kind', JSON.stringify({ kind: '1', content: '', tags: [], created_at: 1 })],
    ['a template without tags', JSON.stringify({ kind: 1, content: '', created_at: 1 })],
  ])('answers %s with an error reply', async (_name, param) => {
    const { ctx } = connected();
    const reply = await dispatchNip46(request('sign_event', [param]), client, ctx, channel);
    expect(reply).toMatchObject({ id: 'r', result: '' });
    expect(reply.error).toMatch(/sign_event/);
  });

  it('refuses an event too large for the signing transport with a clear error', async () => {
    const { ctx } = connected();
    const huge = JSON.stringify({ kind: 1, content: 'x'.repeat(60_000), tags: [], created_at: 1 });
    expect((await dispatchNip46(request('sign_event', [huge]), client, ctx, channel)).error).toMatch(/event too large for signing transport \(max \d+ bytes\)/);
  });

  it('turns a signing failure into an error reply and hides internal errors', async () => {
    const { ctx, clients } = context({ sign: async () => { throw new Error('database exploded at /secret/path'); } });
    clients.add(client);
    const reply = await dispatchNip46(request('sign_event', [JSON.stringify({ kind: 1, content: '', tags: [], created_at: 1 })]), client, ctx, channel);
    expect(reply).toEqual({ id: 'r', result: '', error: 'internal error' });
  });

  it('answers switch_relays with its own relay list', async () => {
    const { ctx } = connected();
    expect(JSON.parse((await dispatchNip46(request('switch_relays', []), client, ctx, channel)).result)).toEqual(['ws://127.0.0.1:1']);
  });

  it('forgets the client on logout', async () => {
    const { ctx, clients } = connected();
    expect((await dispatchNip46(request('logout', []), client, ctx, channel)).result).toBe('ack');
    expect(clients.has(client)).toBe(false);
  });

  it('routes nip44_* and nip04_* to the encryption key, never to a signing round', async () => {
    const { ctx, signed } = connected();
    const peer = '4'.repeat(64);
    expect((await dispatchNip46(request('nip44_encrypt', [peer, 'hi']), client, ctx, channel)).result).toBe('nip44(4444,hi)');
    expect((await dispatchNip46(request('nip44_decrypt', [peer, 'ok:hello']), client, ctx, channel)).result).toBe('hello');
    expect((await dispatchNip46(request('nip04_encrypt', [peer, 'hi']), client, ctx, channel)).result).toBe('nip04(4444,hi)');
    expect((await dispatchNip46(request('nip04_decrypt', [peer, 'abc']), client, ctx, channel)).result).toBe('ABC');
    expect(signed).toHaveLength(0);
  });

  it('answers an undecryptable payload with an error reply', async () => {
    const { ctx } = connected();
    expect((await dispatchNip46(request('nip44_decrypt', ['4'.repeat(64), 'garbage']), client, ctx, channel)).error).toMatch(/cannot decrypt/);
  });

  it('gates encryption methods through the ACL', async () => {
    const { ctx } = context();
    expect((await dispatchNip46(request('nip44_decrypt', ['4'.repeat(64), 'ok:x']), client, ctx, channel)).error).toMatch(/unknown client/);
  });
});
