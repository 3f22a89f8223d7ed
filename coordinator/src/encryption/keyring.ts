import { getPublicKey } from 'nostr-tools/pure';
import * as nip04 from 'nostr-tools/nip04';
import { hexToBytes } from '@frostbunker/shared/crypto';
import { FrostbunkerError } from '@frostbunker/shared/errors';
import { createNip44Codec, type Nip44Codec } from '@frostbunker/shared/nostr';
import type { XOnlyPubkey } from '@frostbunker/shared/protocol';

interface KeyEntry {
  readonly secretKey: Uint8Array;
  readonly pubkey: XOnlyPubkey;
  readonly nip44: Nip44Codec;
}

/**
 * An identity's NIP-4e encryption keys (DESIGN.md Encryption): a separate, non-threshold key, so
 * shares never do ECDH. The newest key encrypts and is the one announced in kind 10044; older keys
 * are kept only to decrypt what peers sent to them before a rotation.
 */
export class EncryptionKeyring {
  readonly #keys: readonly KeyEntry[];

  /** `secretKeysHex` oldest first; the last one is current. */
  constructor(secretKeysHex: readonly string[]) {
    if (secretKeysHex.length === 0) throw new FrostbunkerError('CONFIG_INVALID', 'no encryption key');
    this.#keys = secretKeysHex.map((hex) => {
      const secretKey = hexToBytes(hex, 32, 'encryptionKey');
      return { secretKey, pubkey: getPublicKey(secretKey) as XOnlyPubkey, nip44: createNip44Codec(secretKey) };
    });
  }

  /** The key peers should encrypt to (announced in kind 10044). */
  get currentPubkey(): XOnlyPubkey {
    return this.#current.pubkey;
  }

  get pubkeys(): XOnlyPubkey[] {
    return this.#keys.map((k) => k.pubkey);
  }

  nip44Encrypt(peerPubkey: string, plaintext: string): string {
    return this.#current.nip44.encrypt(peerPubkey, plaintext);
  }

  nip44Decrypt(peerPubkey: string, payload: string): string {
    return this.#tryEach((key) => key.nip44.decrypt(peerPubkey, payload));
  }

  nip04Encrypt(peerPubkey: string, plaintext: string): string {
    return nip04.encrypt(this.#current.secretKey, peerPubkey, plaintext);
  }

  nip04Decrypt(peerPubkey: string, payload: string): string {
    // NIP-04 has no MAC: a wrong key yields garbage or a padding error, so only the current key is
    // tried; messages to older keys must use NIP-44.
    try {
      return nip04.decrypt(this.#current.secretKey, peerPubkey, payload);
    } catch {
      throw new FrostbunkerError('PROTOCOL_INVALID', 'cannot decrypt: not a NIP-04 payload for this key');
    }
  }

  get #current(): KeyEntry {
    return this.#keys[this.#keys.length - 1]!;
  }

  #tryEach(decrypt: (key: KeyEntry) => string): string {
    for (let i = this.#keys.length - 1; i >= 0; i--) {
      try {
        return decrypt(this.#keys[i]!);
      } catch {
        // NIP-44's MAC fails for every key but the right one: try the next older key.
      }
    }
    throw new FrostbunkerError('PROTOCOL_INVALID', 'cannot decrypt: payload is not for any encryption key of this identity');
  }
}
