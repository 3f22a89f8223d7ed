import { join } from 'node:path';
import { z } from 'zod';
import { parseGroupPackage, SigningShare, type GroupPackage } from '@frostbunker/shared/crypto';
import { assertMembersMatch, readJsonFile, readSecretsFile, type SecretsAccess } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import {
  computeGroupId,
  frostIdentifierSchema,
  groupMemberSchema,
  hexOfBytes,
  relayUrlSchema,
  secretStorageSchema,
  xOnlyPubkeySchema,
  type GroupId,
  type GroupMember,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';

/** `<data>/config.json` of one share node: public enrolment data. */
export const shareNodeConfigSchema = z.strictObject({
  v: z.literal(1),
  label: z.string().regex(/^[a-z0-9-]{1,32}$/),
  relays: z.array(relayUrlSchema).min(1),
  coordinatorPubkey: xOnlyPubkeySchema,
  identifier: frostIdentifierSchema,
  group: z.unknown(),
  epoch: z.number().int().min(0),
  members: z.array(groupMemberSchema).min(1).max(255),
  /**
   * NIP-4e encryption keys this node was told of at enrolment: the only keys it co-signs a kind
   * 10044 (or 4454/4455) for, so a compromised coordinator cannot redirect encrypted traffic.
   */
  encryptionPubkeys: z.array(xOnlyPubkeySchema).max(64).default([]),
  /** Subscription probe per relay (RELIABILITY.md G3); 0 turns it off. */
  relayProbeIntervalMs: z.union([z.literal(0), z.number().int().min(1_000).max(300_000)]).default(10_000),
});

/** `<data>/secrets.json` (0600): the share and the node identity key. */
export const shareNodeSecretsSchema = z.strictObject({
  v: z.literal(1),
  storage: secretStorageSchema,
  nodeSecretKey: hexOfBytes(32),
  signingShare: hexOfBytes(32),
});

export interface ShareNodeConfig {
  label: string;
  relays: string[];
  coordinatorPubkey: XOnlyPubkey;
  groupId: GroupId;
  group: GroupPackage;
  epoch: number;
  members: GroupMember[];
  encryptionPubkeys: XOnlyPubkey[];
  relayProbeIntervalMs: number;
  nodeSecretKey: string;
  /** Verified against the group package on load (SigningShare.fromHex). */
  share: SigningShare;
}

/** Reads and cross-checks a share node's files; throws ConfigError naming the field. */
export async function loadShareNodeConfig(dir: string, access: SecretsAccess): Promise<ShareNodeConfig> {
  const configPath = join(dir, 'config.json');
  const config = readJsonFile(configPath, shareNodeConfigSchema);
  const secrets = await readSecretsFile(join(dir, 'secrets.json'), shareNodeSecretsSchema, access);
  let group: GroupPackage;
  try {
    group = parseGroupPackage(config.group);
  } catch (error) {
    throw new ConfigError(`${configPath}#group`, (error as Error).message, { cause: error });
  }
  assertMembersMatch(group, config.members, `${configPath}#members`);
  let share: SigningShare;
  try {
    share = SigningShare.fromHex(config.identifier, secrets.signingShare, group);
  } catch (error) {
    throw new ConfigError(`${join(dir, 'secrets.json')}#signingShare`, 'share does not match the group package', { cause: error });
  }
  return {
    label: config.label,
    relays: config.relays,
    coordinatorPubkey: config.coordinatorPubkey,
    groupId: computeGroupId({ ...group, members: config.members }),
    group,
    epoch: config.epoch,
    members: config.members,
    encryptionPubkeys: config.encryptionPubkeys,
    relayProbeIntervalMs: config.relayProbeIntervalMs,
    nodeSecretKey: secrets.nodeSecretKey,
    share,
  };
}
