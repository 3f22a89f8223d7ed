import { existsSync } from 'node:fs';
import { readJsonFile, writeJsonFileAtomic } from '@frostbunker/shared/config';
import { z } from 'zod';
import type { XOnlyPubkey } from '@frostbunker/shared/protocol';
import { xOnlyPubkeySchema } from '@frostbunker/shared/protocol';

const fileSchema = z.strictObject({ v: z.literal(1), clients: z.array(xOnlyPubkeySchema) });

/**
 * Client pubkeys that connected with a valid secret, per identity. INTEROP.md: a stored client
 * may come back without `connect`, so sessions are keyed by client pubkey and survive restarts.
 * @TODO(issue 3) replaced by subjects and grants in the SQLite ACL.
 */
export class ClientSessions {
  readonly #path: string;
  readonly #clients: Set<XOnlyPubkey>;

  constructor(path: string) {
    this.#path = path;
    const stored = existsSync(path) ? readJsonFile(path, fileSchema) : undefined;
    this.#clients = new Set(stored?.clients ?? []);
  }

  has(clientPubkey: XOnlyPubkey): boolean {
    return this.#clients.has(clientPubkey);
  }

  add(clientPubkey: XOnlyPubkey): void {
    if (this.#clients.has(clientPubkey)) return;
    this.#clients.add(clientPubkey);
    this.#save();
  }

  delete(clientPubkey: XOnlyPubkey): void {
    if (this.#clients.delete(clientPubkey)) this.#save();
  }

  #save(): void {
    writeJsonFileAtomic(this.#path, { v: 1, clients: [...this.#clients] });
  }
}
