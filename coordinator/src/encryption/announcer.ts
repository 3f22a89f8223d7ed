import { existsSync } from 'node:fs';
import { z } from 'zod';
import { readJsonFile, writeJsonFileAtomic } from '@frostbunker/shared/config';
import type { Logger } from '@frostbunker/shared/logger';
import { KIND_ENCRYPTION_KEY } from '@frostbunker/shared/nostr';
import type { UnsignedEventMessage } from '@frostbunker/shared/protocol';
import type { SignedEvent } from '../signing/signing-coordinator.js';

const stateSchema = z.strictObject({
  v: z.literal(1),
  announcements: z.record(
    z.string(),
    z.strictObject({ encryptionPubkey: z.string(), eventId: z.string(), createdAtSec: z.number().int() }),
  ),
});

export interface AnnouncerOptions {
  identity: string;
  userPubkey: string;
  encryptionPubkey: string;
  /** A normal threshold signing round: every share node's veto applies to the 10044 too. */
  sign: (event: UnsignedEventMessage) => Promise<SignedEvent>;
  publish: (event: SignedEvent) => Promise<unknown>;
  /** `<coordinator dir>/state.json`, shared by every identity of this coordinator. */
  statePath: string;
  logger: Logger;
  onAnnounced: (event: SignedEvent) => void;
  nowSec?: () => number;
  retryMs?: number;
}

/**
 * Publishes the identity's NIP-4e kind 10044 (`["n", <encryption pubkey>]`) once a quorum can sign,
 * and again after every key rotation; remembers what it announced so a restart does not repeat it.
 */
export class EncryptionKeyAnnouncer {
  readonly #options: AnnouncerOptions;
  #inFlight = false;
  #retry: NodeJS.Timeout | undefined;

  constructor(options: AnnouncerOptions) {
    this.#options = options;
  }

  /** True when the current key's 10044 has been published. */
  isAnnounced(): boolean {
    return this.#readState().announcements[this.#options.identity]?.encryptionPubkey === this.#options.encryptionPubkey;
  }

  /** Called on every quorum change; announces when a quorum is available and the key is new. */
  onQuorum(available: boolean): void {
    if (!available || this.#inFlight || this.isAnnounced()) return;
    void this.#announce();
  }

  stop(): void {
    clearTimeout(this.#retry);
  }

  async #announce(): Promise<void> {
    this.#inFlight = true;
    const { identity, userPubkey, encryptionPubkey, logger } = this.#options;
    try {
      const nowSec = this.#options.nowSec ?? (() => Math.floor(Date.now() / 1000));
      const signed = await this.#options.sign({
        pubkey: userPubkey,
        created_at: nowSec(),
        kind: KIND_ENCRYPTION_KEY,
        tags: [['n', encryptionPubkey]],
        content: '',
      });
      await this.#options.publish(signed);
      const state = this.#readState();
      state.announcements[identity] = { encryptionPubkey, eventId: signed.id, createdAtSec: signed.created_at };
      writeJsonFileAtomic(this.#options.statePath, state);
      logger.info('encryption key announced', { encryptionPubkey, eventId: signed.id });
      this.#options.onAnnounced(signed);
    } catch (error) {
      logger.warn('encryption key announcement failed; will retry', { error: error instanceof Error ? error.message : String(error) });
      clearTimeout(this.#retry);
      this.#retry = setTimeout(() => void this.#announce(), this.#options.retryMs ?? 30_000);
      this.#retry.unref();
    } finally {
      this.#inFlight = false;
    }
  }

  #readState(): z.infer<typeof stateSchema> {
    return existsSync(this.#options.statePath) ? readJsonFile(this.#options.statePath, stateSchema) : { v: 1, announcements: {} };
  }
}
