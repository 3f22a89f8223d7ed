import { closeSync, existsSync, fsyncSync, openSync, renameSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { isSealedFile, SigningShare, parseGroupPackage, type GroupPackage } from '@frostbunker/shared/crypto';
import { readJsonFile, readSecretsFile, writeJsonFileAtomic, writeSecretsFile, type SecretsAccess } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { ceremonyIdSchema, frostIdentifierSchema, groupMemberSchema, groupPackageDigest, hexOfBytes, type CeremonyId, type FrostIdentifier, type GroupMember } from '@frostbunker/shared/protocol';
import { JOINING_FILE, joiningConfigSchema, NODE_KEY_FILE } from './joining.js';
import { shareNodeSecretsSchema } from '../config.js';

/** Public marker of a pending epoch; its presence (not the secrets file's) means "pending". */
export const PENDING_EPOCH_FILE = 'pending-epoch.json';
/** The pending share, sealed like `secrets.json` (same schema, same passphrase). */
export const PENDING_SECRETS_FILE = 'secrets.pending.json';

const pendingEpochSchema = z.strictObject({
  v: z.literal(1),
  ceremonyId: ceremonyIdSchema,
  kind: z.enum(['refresh', 'reshare', 'repair', 'dkg']),
  fromEpoch: z.number().int().min(0),
  // 0 for a DKG: the group's first epoch.
  toEpoch: z.number().int().min(0),
  group: z.unknown(),
  groupDigest: hexOfBytes(32),
  /** Set once the node has learnt the coordinator's commit decision: from then on only forward. */
  committed: z.boolean(),
  /** Reshare: the new members (config.json gets them) and this node's identifier (a joining node has none yet). */
  members: z.array(groupMemberSchema).optional(),
  identifier: frostIdentifierSchema.optional(),
});
export type PendingEpochFile = z.infer<typeof pendingEpochSchema>;

/** A pending epoch with its verified share, as the ceremony handler holds it. */
export interface PendingEpoch {
  ceremonyId: CeremonyId;
  fromEpoch: number;
  toEpoch: number;
  group: GroupPackage;
  groupDigest: string;
  share: SigningShare;
  committed: boolean;
  kind?: 'refresh' | 'reshare' | 'repair' | 'dkg';
  members?: GroupMember[];
}

function fsyncDir(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

function removeDurably(dir: string, name: string): void {
  const path = join(dir, name);
  if (!existsSync(path)) return;
  unlinkSync(path);
  fsyncDir(dir);
}

/**
 * The files of a two-phase epoch switch in a share node's data directory (RELIABILITY.md §2.7):
 *
 *   pending:   secrets.pending.json (sealed), then pending-epoch.json — both temp + fsync + rename +
 *              dir fsync, before the node says `ceremony_pending` (S3).
 *   commit:    pending-epoch.json gets `committed: true` (the decision, durable), config.json gets
 *              the new epoch and group, secrets.pending.json is renamed over secrets.json (the old
 *              share file is gone: S6), pending-epoch.json is removed (S7), then the node acks.
 *   abort:     both pending files are removed; config.json and secrets.json were never touched.
 *
 * Every step is idempotent, so `recoverCommitted` can finish a switch interrupted anywhere after
 * the decision was recorded without needing the passphrase (a rename, not a re-seal).
 */
export class EpochFiles {
  readonly #dir: string;
  readonly #access: SecretsAccess;

  constructor(dir: string, access: SecretsAccess) {
    this.#dir = dir;
    this.#access = access;
  }

  get dir(): string {
    return this.#dir;
  }

  readPendingFile(): PendingEpochFile | null {
    const path = join(this.#dir, PENDING_EPOCH_FILE);
    return existsSync(path) ? readJsonFile(path, pendingEpochSchema) : null;
  }

  /** Reads and verifies the pending epoch (share against its group), or null when there is none. */
  async loadPending(identifier?: FrostIdentifier): Promise<PendingEpoch | null> {
    const file = this.readPendingFile();
    if (file === null) {
      // A pending share without its marker: the node died before S3 completed; it was never acknowledged.
      removeDurably(this.#dir, PENDING_SECRETS_FILE);
      return null;
    }
    const secretsPath = join(this.#dir, PENDING_SECRETS_FILE);
    const secrets = await readSecretsFile(secretsPath, shareNodeSecretsSchema, this.#access);
    const shareIdentifier = file.identifier ?? identifier;
    if (shareIdentifier === undefined) throw new ConfigError(PENDING_EPOCH_FILE, 'no identifier for the pending share');
    let group: GroupPackage;
    let share: SigningShare;
    try {
      group = parseGroupPackage(file.group);
      share = SigningShare.fromHex(shareIdentifier, secrets.signingShare, group);
    } catch (error) {
      throw new ConfigError(secretsPath, 'pending share does not match the pending group', { cause: error });
    }
    return {
      ceremonyId: file.ceremonyId,
      fromEpoch: file.fromEpoch,
      toEpoch: file.toEpoch,
      group,
      groupDigest: file.groupDigest,
      share,
      committed: file.committed,
      kind: file.kind,
      ...(file.members ? { members: file.members } : {}),
    };
  }

  /** Persists a pending epoch (S3): sealed share first, then the public marker. */
  async writePending(pending: Omit<PendingEpoch, 'committed' | 'groupDigest'>, nodeSecretKey: string): Promise<PendingEpochFile> {
    // A joining node has no secrets.json yet: its identity key file says how to seal.
    const keyFile = existsSync(join(this.#dir, 'secrets.json')) ? 'secrets.json' : NODE_KEY_FILE;
    const current = readJsonFile(join(this.#dir, keyFile), z.unknown());
    const passphrase = isSealedFile(current) ? await this.#access.passphrase?.() : undefined;
    if (isSealedFile(current) && passphrase === undefined) throw new ConfigError('secrets.json', 'sealed: a passphrase is needed to seal the pending share');
    await writeSecretsFile(
      join(this.#dir, PENDING_SECRETS_FILE),
      { v: 1, nodeSecretKey, signingShare: pending.share.toHex() },
      passphrase === undefined ? {} : { passphrase },
    );
    const file: PendingEpochFile = {
      v: 1,
      ceremonyId: pending.ceremonyId,
      kind: pending.kind ?? 'refresh',
      fromEpoch: pending.fromEpoch,
      toEpoch: pending.toEpoch,
      group: pending.group,
      groupDigest: groupPackageDigest(pending.group),
      committed: false,
      ...(pending.members ? { members: pending.members, identifier: pending.share.identifier } : {}),
    };
    writeJsonFileAtomic(join(this.#dir, PENDING_EPOCH_FILE), file);
    return file;
  }

  /** Records the commit decision before anything else changes. */
  markCommitted(): void {
    const file = this.readPendingFile();
    if (file === null) throw new ConfigError(PENDING_EPOCH_FILE, 'no pending epoch to commit');
    if (!file.committed) writeJsonFileAtomic(join(this.#dir, PENDING_EPOCH_FILE), { ...file, committed: true });
  }

  /** S6: config.json on the new epoch and group, then the pending share replaces secrets.json. */
  switchEpoch(): void {
    const file = this.readPendingFile();
    if (file === null || !file.committed) throw new ConfigError(PENDING_EPOCH_FILE, 'switch without a recorded commit');
    const configPath = join(this.#dir, 'config.json');
    if (!existsSync(configPath)) {
      // A joining node becomes a member: its enrolment is what it was told at init plus the new group.
      const joining = readJsonFile(join(this.#dir, JOINING_FILE), joiningConfigSchema);
      if (!file.members || !file.identifier) throw new ConfigError(PENDING_EPOCH_FILE, 'a joining node needs the new members and its identifier');
      writeJsonFileAtomic(configPath, { ...joining, identifier: file.identifier, group: file.group, epoch: file.toEpoch, members: file.members });
    } else {
      // Edit the raw document so every other enrolment field stays exactly as written.
      const config = readJsonFile(configPath, z.record(z.string(), z.unknown()));
      if (config.epoch !== file.toEpoch) writeJsonFileAtomic(configPath, { ...config, epoch: file.toEpoch, group: file.group, ...(file.members ? { members: file.members } : {}) });
    }
    const pendingSecrets = join(this.#dir, PENDING_SECRETS_FILE);
    if (existsSync(pendingSecrets)) {
      renameSync(pendingSecrets, join(this.#dir, 'secrets.json'));
      fsyncDir(this.#dir);
    }
  }

  /** S7: the switch is complete; the marker goes. */
  finishSwitch(): void {
    removeDurably(this.#dir, NODE_KEY_FILE);
    removeDurably(this.#dir, JOINING_FILE);
    removeDurably(this.#dir, PENDING_EPOCH_FILE);
  }

  /**
   * A reshare committed without this node: its share file is destroyed and its enrolment is kept
   * as `config.retired.json` (public; so the node will not start as a member again).
   */
  retire(): void {
    removeDurably(this.#dir, 'secrets.json');
    removeDurably(this.#dir, PENDING_SECRETS_FILE);
    removeDurably(this.#dir, PENDING_EPOCH_FILE);
    const configPath = join(this.#dir, 'config.json');
    if (existsSync(configPath)) {
      renameSync(configPath, join(this.#dir, 'config.retired.json'));
      fsyncDir(this.#dir);
    }
  }

  /** Abort: the pending share and its marker go; the current epoch was never touched. */
  discardPending(): void {
    const file = this.readPendingFile();
    if (file?.committed) throw new ConfigError(PENDING_EPOCH_FILE, 'the commit decision is recorded: cannot abort');
    removeDurably(this.#dir, PENDING_SECRETS_FILE);
    removeDurably(this.#dir, PENDING_EPOCH_FILE);
  }

  /**
   * At start, before the config is loaded: a switch whose commit was recorded is finished (the
   * config and secrets files may disagree in between). Returns the epoch switched to, if any.
   */
  recoverCommitted(): number | undefined {
    const file = this.readPendingFile();
    if (file === null || !file.committed) return undefined;
    this.switchEpoch();
    this.finishSwitch();
    return file.toEpoch;
  }
}
