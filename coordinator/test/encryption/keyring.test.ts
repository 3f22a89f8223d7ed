import { randomBytes } from 'node:crypto';
import * as nip44 from 'nostr-tools/nip44';
import { generateSecretKey, getPublicKey } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { EncryptionKeyring } from '../../src/encryption/keyring.js';

const hex = () => randomBytes(32).toString('hex');

describe('EncryptionKeyring', () => {
  const peer = generateSecretKey();
  const peerPubkey = getPublicKey(peer);

  it('encrypts with the newest key, which is the one it announces', () => {
    const [oldKey, newKey] = [hex(), hex()];
    const keyring = new EncryptionKeyring([oldKey, newKey]);
    expect(keyring.currentPubkey).toBe(getPublicKey(Buffer.from(newKey, 'hex')));
    const payload = keyring.nip44Encrypt(peerPubkey, 'x');
    expect(nip44.decrypt(payload, nip44.getConversationKey(peer, keyring.currentPubkey))).toBe('x');
  });

  it('still decrypts what a peer sent to a rotated-out key', () => {
    const oldKey = hex();
    const oldPubkey = getPublicKey(Buffer.from(oldKey, 'hex'));
    const keyring = new EncryptionKeyring([oldKey, hex()]);
    const payload = nip44.encrypt('sent before the rotation', nip44.getConversationKey(peer, oldPubkey));
    expect(keyring.nip44Decrypt(peerPubkey, payload)).toBe('sent before the rotation');
  });

  it('refuses a payload for none of its keys with a clear error', () => {
    const keyring = new EncryptionKeyring([hex()]);
    const payload = nip44.encrypt('x', nip44.getConversationKey(peer, getPublicKey(generateSecretKey())));
    expect(() => keyring.nip44Decrypt(peerPubkey, payload)).toThrow(/not for any encryption key/);
  });

  it('refuses to exist without a key', () => {
    expect(() => new EncryptionKeyring([])).toThrow(/no encryption key/);
  });
});
