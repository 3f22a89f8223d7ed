import WebSocket from 'ws';
import { AbstractSimplePool } from 'nostr-tools/abstract-pool';
import * as nip04 from 'nostr-tools/nip04';
import * as nip44 from 'nostr-tools/nip44';
import { generateSecretKey, getPublicKey, verifyEvent, type Event } from 'nostr-tools/pure';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Lab } from '@frostbunker/deploy/lab';
import { connectBunkerSigner, withDeadline } from '../harness/bunker-client.js';
import { frostbunkerCli } from '../harness/frostbunker-cli.js';
import { shareNodeCli } from '../harness/share-node-cli.js';
import { makeTempDir } from '../harness/tmp.js';

const KIND_ENCRYPTION_KEY = 10044;

/** Reads the identity's kind-10044 from the relay as any NIP-4e-aware peer would. */
async function fetchAnnouncement(relayUrl: string, author: string): Promise<Event> {
  const pool = new AbstractSimplePool({ verifyEvent, websocketImplementation: WebSocket as unknown as typeof globalThis.WebSocket, maxWaitForConnection: 5_000 });
  try {
    const events = await pool.querySync([relayUrl], { kinds: [KIND_ENCRYPTION_KEY], authors: [author] }, { maxWait: 5_000 });
    const [latest] = events.sort((a, b) => b.created_at - a.created_at);
    if (!latest) throw new Error('no kind 10044 on the relay');
    return latest;
  } finally {
    pool.destroy();
  }
}

describe('NIP-4e encryption key (real processes)', () => {
  const dir = makeTempDir('nip4e');
  let lab: Lab;
  let client: Awaited<ReturnType<typeof connectBunkerSigner>>;
  let announced: Event;
  const peerSecret = generateSecretKey();
  const peerPubkey = getPublicKey(peerSecret);

  beforeAll(async () => {
    lab = await Lab.start({ root: dir.path, relayPort: 0 });
    await lab.waitForQuorum();
    const eventId = await lab.waitForAnnouncement();
    client = await connectBunkerSigner(lab.bunkerUrl);
    announced = await fetchAnnouncement(lab.relayUrls[0]!, lab.userPubkey);
    expect(announced.id).toBe(eventId);
  });
  afterAll(async () => {
    await client?.close();
    await lab?.stop();
    dir.remove();
  });

  it('announces a separate encryption key in a kind 10044 signed by the threshold identity', () => {
    expect(verifyEvent(announced)).toBe(true);
    expect(announced.pubkey).toBe(lab.userPubkey);
    expect(announced.tags).toEqual([['n', lab.encryptionPubkey]]);
    expect(lab.encryptionPubkey).not.toBe(lab.userPubkey);
  });

  it('decrypts through NIP-46 what a peer encrypted to the announced key', async () => {
    const announcedKey = announced.tags[0]![1]!;
    const message = 'meet at the usual place 🌲';
    const payload = nip44.encrypt(message, nip44.getConversationKey(peerSecret, announcedKey));
    expect(await withDeadline(client.signer.nip44Decrypt(peerPubkey, payload), 15_000, 'nip44_decrypt')).toBe(message);
  });

  it('encrypts through NIP-46 what the peer decrypts with the announced key', async () => {
    const announcedKey = announced.tags[0]![1]!;
    const payload = await withDeadline(client.signer.nip44Encrypt(peerPubkey, 'hello peer'), 15_000, 'nip44_encrypt');
    expect(nip44.decrypt(payload, nip44.getConversationKey(peerSecret, announcedKey))).toBe('hello peer');
  });

  it('speaks NIP-04 with the same key for peers that still use it', async () => {
    const announcedKey = announced.tags[0]![1]!;
    const payload = await withDeadline(client.signer.sendRequest('nip04_encrypt', [peerPubkey, 'legacy']), 15_000, 'nip04_encrypt');
    expect(nip04.decrypt(peerSecret, announcedKey, payload)).toBe('legacy');
    const back = nip04.encrypt(peerSecret, announcedKey, 'legacy reply');
    expect(await withDeadline(client.signer.sendRequest('nip04_decrypt', [peerPubkey, back]), 15_000, 'nip04_decrypt')).toBe('legacy reply');
  });

  it('answers a payload meant for another key with an error, not silence', async () => {
    const stranger = getPublicKey(generateSecretKey());
    const payload = nip44.encrypt('not for you', nip44.getConversationKey(peerSecret, stranger));
    await expect(withDeadline(client.signer.nip44Decrypt(peerPubkey, payload), 15_000, 'nip44_decrypt')).rejects.toThrow(/cannot decrypt/);
  });

  it('rotates the key: announces the new one after the nodes enrol it, and still decrypts for the old one', async () => {
    const oldKey = lab.encryptionPubkey;
    const toOldKey = nip44.encrypt('sent before the rotation', nip44.getConversationKey(peerSecret, oldKey));
    await client.close();
    await lab.stop();
    const rotated = JSON.parse(await frostbunkerCli('encryption-key', 'rotate', '--data', lab.layout.coordinatorDir, '--insecure-plaintext')) as { current: string; older: string[] };
    expect(rotated.older).toEqual([oldKey]);
    for (const nodeDir of lab.layout.nodeDirs) await shareNodeCli(nodeDir, 'enrol-encryption-key', rotated.current);

    lab = await Lab.start({ root: dir.path });
    expect(lab.encryptionPubkey).toBe(rotated.current);
    await lab.waitForQuorum();
    await lab.waitForAnnouncement();
    client = await connectBunkerSigner(lab.bunkerUrl);
    const fresh = await fetchAnnouncement(lab.relayUrls[0]!, lab.userPubkey);
    expect(fresh.tags).toEqual([['n', rotated.current]]);
    expect(await withDeadline(client.signer.nip44Decrypt(peerPubkey, toOldKey), 15_000, 'decrypt to old key')).toBe('sent before the rotation');
  });
});
