import * as nip44 from 'nostr-tools/nip44';
import { generateSecretKey, getPublicKey, verifyEvent } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { withDeadline } from '../harness/bunker-client.js';
import { connectApplesauce, connectNdk, type InteropClient } from '../harness/interop-clients.js';
import { makeTempDir } from '../harness/tmp.js';

// INTEROP.md: real NIP-46 clients from npm, each with its quirks, against one 2-of-3 lab.
describe('interop with NDK and applesauce (real processes)', () => {
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

    it('gets an error, not a hang, for a sensitive kind', async () => {
      const profile = { kind: 0, content: '{}', tags: [], created_at: Math.floor(Date.now() / 1000) };
      await expect(withDeadline(client.signEvent(profile), 20_000, 'sign kind 0')).rejects.toThrow(/sensitive|kind 0/);
    });

    it('encrypts and decrypts with NIP-44 through the NIP-4e key', async () => {
      const peer = generateSecretKey();
      const payload = await withDeadline(client.nip44Encrypt(getPublicKey(peer), 'ping'), 15_000, 'nip44_encrypt');
      expect(nip44.decrypt(payload, nip44.getConversationKey(peer, lab.encryptionPubkey))).toBe('ping');
      const back = nip44.encrypt('pong', nip44.getConversationKey(peer, lab.encryptionPubkey));
      expect(await withDeadline(client.nip44Decrypt(getPublicKey(peer), back), 15_000, 'nip44_decrypt')).toBe('pong');
    });
  });
});
