import { join } from 'node:path';
import { z } from 'zod';
import { parseGroupPackage, type GroupPackage } from '@frostbunker/shared/crypto';
import { assertMembersMatch, readJsonFile, readSecretsFile, type SecretsAccess } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { computeGroupId, groupMemberSchema, hexOfBytes, relayUrlSchema, secretStorageSchema } from '@frostbunker/shared/protocol';
import type { SigningIdentity } from './signing/identity.js';

const identityConfigSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9-]{1,32}$/),
  group: z.unknown(),
  epoch: z.number().int().min(0),
  members: z.array(groupMemberSchema).min(1).max(255),
});

/** `<data>/coordinator/config.json`: public, safe to show. */
export const coordinatorConfigSchema = z.strictObject({
  v: z.literal(1),
  relays: z.array(relayUrlSchema).min(1),
  roundTimeoutMs: z.number().int().min(100).max(120_000).default(5_000),
  pingIntervalMs: z.number().int().min(100).max(60_000).default(2_000),
  /** Subscription probe per relay (RELIABILITY.md G3); 0 turns it off. */
  relayProbeIntervalMs: z.union([z.literal(0), z.number().int().min(1_000).max(300_000)]).default(10_000),
  /** How long a request that needs an operator's approval waits before it fails (auth_url). */
  approvalTimeoutSec: z.number().int().min(5).max(3_600).default(120),
  /** The admin API / dashboard: loopback by default; port 0 picks a free one. */
  admin: z
    .strictObject({
      host: z.string().default('127.0.0.1'),
      port: z.number().int().min(0).max(65_535).default(7446),
      /** The address operators reach it by (a tunnel, a proxy); approval links use it. */
      publicUrl: z.url().optional(),
      /** A host that is not loopback is refused unless this says it is meant (logged as a warning). */
      allowNonLoopback: z.boolean().default(false),
    })
    .default({ host: '127.0.0.1', port: 7446, allowNonLoopback: false }),
  identities: z.array(identityConfigSchema).min(1),
});

/** `<data>/coordinator/secrets.json` (0600): never logged, never part of Config. */
export const coordinatorSecretsSchema = z.strictObject({
  v: z.literal(1),
  storage: secretStorageSchema,
  coordinatorSecretKey: hexOfBytes(32),
  identities: z.array(
    z.strictObject({
      name: z.string(),
      transportSecretKey: hexOfBytes(32),
      /** NIP-4e encryption keys, oldest first; the last one is current and announced. */
      encryptionKeys: z.array(hexOfBytes(32)).min(1).max(64),
    }),
  ),
});
export type CoordinatorSecrets = z.infer<typeof coordinatorSecretsSchema>;

export interface CoordinatorIdentityConfig {
  name: string;
  signing: SigningIdentity;
  transportSecretKey: string;
  encryptionKeys: string[];
}

export interface CoordinatorConfig {
  relays: string[];
  roundTimeoutMs: number;
  pingIntervalMs: number;
  relayProbeIntervalMs: number;
  approvalTimeoutSec: number;
  admin: { host: string; port: number; publicUrl?: string; allowNonLoopback: boolean };
  coordinatorSecretKey: string;
  identities: CoordinatorIdentityConfig[];
}

/** Reads and cross-checks the coordinator's files; throws ConfigError naming the field. */
export async function loadCoordinatorConfig(dir: string, access: SecretsAccess): Promise<CoordinatorConfig> {
  const configPath = join(dir, 'config.json');
  const config = readJsonFile(configPath, coordinatorConfigSchema);
  const secrets = await readSecretsFile(join(dir, 'secrets.json'), coordinatorSecretsSchema, access);
  const signing = readSigningIdentities(dir);
  const identities = config.identities.map((identity, index) => {
    const field = `${configPath}#identities.${index}`;
    const secret = secrets.identities.find((s) => s.name === identity.name);
    if (!secret) throw new ConfigError(`${field}.name`, `no secrets for identity "${identity.name}"`);
    return {
      name: identity.name,
      signing: signing.get(identity.name)!,
      transportSecretKey: secret.transportSecretKey,
      encryptionKeys: secret.encryptionKeys,
    };
  });
  return {
    relays: config.relays,
    roundTimeoutMs: config.roundTimeoutMs,
    pingIntervalMs: config.pingIntervalMs,
    relayProbeIntervalMs: config.relayProbeIntervalMs,
    approvalTimeoutSec: config.approvalTimeoutSec,
    admin: config.admin,
    coordinatorSecretKey: secrets.coordinatorSecretKey,
    identities,
  };
}

/**
 * The public signing material of every identity in `<dir>/config.json`, fully checked (schema,
 * group package, members against the group, group id); throws ConfigError naming the field. Needs
 * no passphrase, so a running coordinator can re-read it when a drill commits a new epoch.
 */
export function readSigningIdentities(dir: string): Map<string, SigningIdentity> {
  const configPath = join(dir, 'config.json');
  const config = readJsonFile(configPath, coordinatorConfigSchema);
  const identities = new Map<string, SigningIdentity>();
  for (const [index, identity] of config.identities.entries()) {
    const field = `${configPath}#identities.${index}`;
    if (identities.has(identity.name)) throw new ConfigError(`${field}.name`, `identity "${identity.name}" appears twice`);
    const group = parseGroupOrThrow(identity.group, `${field}.group`);
    assertMembersMatch(group, identity.members, `${field}.members`);
    const groupId = computeGroupId({ ...group, members: identity.members });
    identities.set(identity.name, { groupId, group, epoch: identity.epoch, members: identity.members });
  }
  return identities;
}

function parseGroupOrThrow(value: unknown, field: string): GroupPackage {
  try {
    return parseGroupPackage(value);
  } catch (error) {
    throw new ConfigError(field, (error as Error).message, { cause: error });
  }
}
