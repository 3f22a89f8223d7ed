import * as nip44 from 'nostr-tools/nip44';
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, connectViaNostrConnect, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { connectApplesauce, connectNdk, type InteropClient } from '../harness/interop-clients.js';
import { makeTempDir } from '../harness/tmp.js';

/** nostr-tools' BunkerSigner behind the same surface as the other two. */
async function connectNostrTools(bunkerUrl: string): Promise<InteropClient> {
  const { signer, close } = await connectBunkerSigner(bunkerUrl);
  return {
    name: 'nostr-tools',
    getPublicKey: () => signer.getPublicKey(),
    signEvent: (template) => signer.signEvent(template),
    nip44Encrypt: (peer, text) => signer.nip44Encrypt(peer, text),
    nip44Decrypt: (peer, payload) => signer.nip44Decrypt(peer, payload),
    switchRelays: () => signer.sendRequest('switch_relays', []).then((result) => JSON.parse(result) as string[] | null),
    logout: () => signer.sendRequest('logout', []).then(() => undefined),
    close,
  };
}

/** Waits for the one request queued for approval and returns its id (tests in a file run serially). */
async function pendingApprovalId(coordinatorDir: string): Promise<string> {
  for (let attempt = 0; attempt < 100; attempt++) {
    const id = /^(apr_[0-9a-f]{16}) /m.exec(await frostbunkerCli('pending', '--data', coordinatorDir))?.[1];
    if (id) return id;
    await new Promise((resolve) => setTimeout(resolve, 150));
  }
  throw new Error('no request waiting for approval');
}

// INTEROP.md: real NIP-46 clients from npm, each with its quirks, against one 2-of-3 lab.
describe('interop with nostr-tools, NDK and applesauce (real processes)', () => {
  const dir = makeTempDir('interop');
  let lab: Lab;
  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
  });
  afterAll(async () => {
    await lab?.stop();
    dir.remove();
  });

  describe.each([
    // One-time tokens: every client gets its own bunker:// URL.
    ['nostr-tools', () => connectNostrTools(lab.newBunkerUrl())],
    ['NDK', () => connectNdk(lab.newBunkerUrl(), lab.relayUrls[0]!)],
    ['applesauce', () => connectApplesauce(lab.newBunkerUrl())],
  ] as const)('%s', (_name, connect) => {
    let client: InteropClient;
    beforeAll(async () => {
      client = await connect();
    });
    afterAll(async () => {
      await client?.close();
    });

    it('connects and gets the group key', async () => {
      expect(await withDeadline(client.getPublicKey(), 15_000, 'get_public_key')).toBe(lab.userPubkey);
    });

    it('signs a kind-1 event that verifies under the group key', async () => {
      const template = { kind: 1, content: `hello from ${client.name}`, tags: [['t', 'interop']], created_at: Math.floor(Date.now() / 1000) };
      const signed = await withDeadline(client.signEvent(template), 20_000, 'sign_event');
      expect(signed.pubkey).toBe(lab.userPubkey);
      expect(signed.content).toBe(template.content);
      expect(verifyEvent({ ...signed })).toBe(true);
    });

    it('waits through auth_url for a sensitive kind and gets an error, not a hang, once the operator rejects it', async () => {
      const profile = { kind: 0, content: '{}', tags: [], created_at: Math.floor(Date.now() / 1000) };
      // The expectation is attached before the rejection can arrive (no unhandled rejection).
      const refused = expect(withDeadline(client.signEvent(profile), 30_000, 'sign kind 0')).rejects.toThrow(`denied by the operator: no profile edits from ${client.name}`);
      const approvalId = await pendingApprovalId(lab.layout.coordinatorDir);
      await frostbunkerCli('reject', approvalId, '--reason', `no profile edits from ${client.name}`, '--data', lab.layout.coordinatorDir);
      await refused;
    });

    it('answers switch_relays with the bunker relays', async () => {
      expect(await withDeadline(client.switchRelays(), 15_000, 'switch_relays')).toEqual(lab.relayUrls);
    });

    it('encrypts and decrypts with NIP-44 through the NIP-4e key', async () => {
      const peer = generateSecretKey();
      const payload = await withDeadline(client.nip44Encrypt(getPublicKey(peer), 'ping'), 15_000, 'nip44_encrypt');
      expect(nip44.decrypt(payload, nip44.getConversationKey(peer, lab.encryptionPubkey))).toBe('ping');
      const back = nip44.encrypt('pong', nip44.getConversationKey(peer, lab.encryptionPubkey));
      expect(await withDeadline(client.nip44Decrypt(getPublicKey(peer), back), 15_000, 'nip44_decrypt')).toBe('pong');
    });

    it('logs out: the token perms are gone and the next request is refused with an error', async () => {
      await withDeadline(client.logout(), 15_000, 'logout');
      // The client's tokens are revoked. nostr-tools and NDK ask again on the same session:
      // paranoid trust asks the operator, who rejects. applesauce closed its session and
      // reconnects with its spent token, which is refused at once.
      const outcome = withDeadline(client.signEvent({ kind: 1, content: 'after logout', tags: [], created_at: Math.floor(Date.now() / 1000) }), 30_000, 'sign after logout')
        .then(() => 'signed', (error: Error) => error.message);
      let message: string | undefined;
      for (let attempt = 0; attempt < 100 && message === undefined; attempt++) {
        const approvalId = /^(apr_[0-9a-f]{16}) /m.exec(await frostbunkerCli('pending', '--data', lab.layout.coordinatorDir))?.[1];
        if (approvalId) await frostbunkerCli('reject', approvalId, '--data', lab.layout.coordinatorDir);
        message = await Promise.race([outcome, new Promise<undefined>((resolve) => setTimeout(() => resolve(undefined), 150))]);
      }
      expect(message).toMatch(client.name === 'applesauce' ? /already used connection token/ : /denied by the operator/);
    });
  });

  it('connects a client that shows a nostrconnect:// URI once the operator accepts it with the CLI, granting the operator perms', async () => {
    let output = '';
    const client = await connectViaNostrConnect(lab.relayUrls[0]!, async (uri) => {
      output = await frostbunkerCli('connect', uri, '--perms', 'get_public_key,switch_relays,sign_event:1', '--data', lab.layout.coordinatorDir, '--insecure-plaintext');
    });
    try {
      expect(output).toContain('asks for: nip44_encrypt,sign_event:1');
      expect(output).toContain('granted:  get_public_key,sign_event:1,switch_relays');
      expect(output).toMatch(/connected \(t_[0-9a-f]{16}\)/);
      expect(await withDeadline(client.signer.getPublicKey(), 15_000, 'get_public_key')).toBe(lab.userPubkey);
      const signed = await withDeadline(client.signer.signEvent({ kind: 1, content: 'via nostrconnect', tags: [], created_at: Math.floor(Date.now() / 1000) }), 20_000, 'sign');
      expect(verifyEvent({ ...signed })).toBe(true);
      const audit = await frostbunkerCli('audit', 'tail', '--n', '50', '--data', lab.layout.coordinatorDir);
      expect(audit).toContain(`nostrconnect.accept  default/${client.clientPubkey}`);
    } finally {
      await client.close();
    }
  });

  it('accepts a nostrconnect:// URI through the admin API too', async () => {
    const token = (await frostbunkerCli('admin-token', 'create', '--label', 'interop', '--data', lab.layout.coordinatorDir)).trim();
    let accepted: { clientPubkey?: string; perms?: string; requestedPerms?: string; answeredOn?: string[] } = {};
    const client = await connectViaNostrConnect(lab.relayUrls[0]!, async (uri) => {
      const response = await fetch(`${lab.adminUrl}/api/v1/identities/default/nostrconnect`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ uri, perms: 'get_public_key,switch_relays,sign_event:1' }),
      });
      expect(response.status).toBe(200);
      accepted = (await response.json()) as typeof accepted;
    });
    try {
      expect(accepted).toMatchObject({ clientPubkey: client.clientPubkey, perms: 'get_public_key,sign_event:1,switch_relays', requestedPerms: 'nip44_encrypt,sign_event:1', answeredOn: lab.relayUrls });
      const signed = await withDeadline(client.signer.signEvent({ kind: 1, content: 'via the API', tags: [], created_at: Math.floor(Date.now() / 1000) }), 20_000, 'sign');
      expect(verifyEvent({ ...signed })).toBe(true);
    } finally {
      await client.close();
    }
  });

  it('refuses a nostrconnect URI whose relays the bunker does not listen on, granting nothing', async () => {
    const uri = `nostrconnect://${'ab'.repeat(32)}?relay=${encodeURIComponent('ws://127.0.0.1:9')}&secret=x`;
    const failure = await frostbunkerCli('connect', uri, '--data', lab.layout.coordinatorDir, '--insecure-plaintext').then(() => undefined, (error: { stderr?: string }) => error);
    expect(failure?.stderr).toMatch(/the client listens on ws:\/\/127\.0\.0\.1:9 but this bunker on ws:\/\/127\.0\.0\.1:\d+/);
    const clients = JSON.parse(await frostbunkerCli('clients', '--data', lab.layout.coordinatorDir)) as { client: string }[];
    expect(clients.map((c) => c.client)).not.toContain('ab'.repeat(32));
  });
});
