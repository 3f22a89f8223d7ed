import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import type { GroupPackage } from '@frostbunker/shared/crypto';
import { readJsonFile, writeJsonFileAtomic } from '@frostbunker/shared/config';
import { ceremonyIdSchema, ceremonyParamsSchema } from '@frostbunker/shared/protocol';

/**
 * Where a drill is (RELIABILITY.md §2.7): everything before `committed` may be aborted; `committed`
 * is the durable commit decision (S5), after which the drill only ever moves forward.
 */
export const drillPhaseSchema = z.enum(['started', 'pending', 'tested', 'committed', 'done', 'aborted']);
export type DrillPhase = z.infer<typeof drillPhaseSchema>;

export const drillStateSchema = z.strictObject({
  v: z.literal(1),
  kind: z.enum(['refresh', 'reshare', 'repair']),
  identity: z.string(),
  ceremonyId: ceremonyIdSchema,
  params: ceremonyParamsSchema,
  phase: drillPhaseSchema,
  /** The new public group package, once every node reported the same one (S3). */
  newGroup: z.unknown().optional(),
  startedAtSec: z.number().int(),
  /** Labels of the nodes that acknowledged the decision. */
  acknowledged: z.array(z.string()).default([]),
});
export type DrillState = z.infer<typeof drillStateSchema>;

/** One identity's drill state in `<data>/drills/<identity>.state.json`, written durably (fsync) on every change. */
export class DrillStateStore {
  readonly #path: string;

  constructor(dataDir: string, identity: string) {
    this.#path = join(dataDir, 'drills', `${identity}.state.json`);
  }

  get path(): string {
    return this.#path;
  }

  load(): DrillState | null {
    return existsSync(this.#path) ? readJsonFile(this.#path, drillStateSchema) : null;
  }

  save(state: DrillState): void {
    writeJsonFileAtomic(this.#path, state);
  }
}

/**
 * Points identity `name` of `<data>/config.json` at the committed epoch and group, atomically,
 * editing the raw document so every other setting stays exactly as the operator wrote it.
 * Idempotent: a resumed drill may call it again.
 */
export function commitIdentityEpoch(
  dataDir: string,
  name: string,
  group: GroupPackage,
  epoch: number,
  members?: readonly { identifier: string; nodePubkey: string; label: string }[],
): void {
  const path = join(dataDir, 'config.json');
  const config = readJsonFile(path, z.looseObject({ identities: z.array(z.looseObject({ name: z.string() })) }));
  const identities = config.identities.map((identity) => (identity.name === name ? { ...identity, group, epoch, ...(members ? { members: members.map(({ identifier, nodePubkey, label }) => ({ identifier, nodePubkey, label })) } : {}) } : identity));
  if (!config.identities.some((identity) => identity.name === name)) throw new Error(`${path}: no identity "${name}"`);
  writeJsonFileAtomic(path, { ...config, identities });
}
