import { existsSync } from 'node:fs';
import { z } from 'zod';
import { readJsonFile, writeJsonFileAtomic } from '@frostbunker/shared/config';

const stateSchema = z.strictObject({
  v: z.literal(1),
  frozen: z.strictObject({ reason: z.string().max(200), sinceSec: z.number().int() }).nullable(),
  /** Follows (p tags) of the latest kind 3 this node signed: the baseline for the drop rule. */
  contactListFollows: z.array(z.string()).max(100_000).nullable(),
});
export type NodeStateData = z.infer<typeof stateSchema>;

/**
 * Small durable state of a share node (`<data>/state.json`): the kill switch survives a restart,
 * and so does the contact-list baseline. Written atomically on every change.
 */
export class NodeState {
  readonly #path: string;
  #data: NodeStateData;

  constructor(path: string) {
    this.#path = path;
    this.#data = existsSync(path) ? readJsonFile(path, stateSchema) : { v: 1, frozen: null, contactListFollows: null };
  }

  get frozen(): NodeStateData['frozen'] {
    return this.#data.frozen;
  }

  get contactListFollows(): readonly string[] | undefined {
    return this.#data.contactListFollows ?? undefined;
  }

  setFrozen(frozen: NodeStateData['frozen']): void {
    this.#write({ ...this.#data, frozen });
  }

  setContactListFollows(follows: readonly string[]): void {
    this.#write({ ...this.#data, contactListFollows: [...follows] });
  }

  #write(data: NodeStateData): void {
    writeJsonFileAtomic(this.#path, data);
    this.#data = data;
  }
}
