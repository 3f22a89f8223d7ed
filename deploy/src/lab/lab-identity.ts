import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { bytesToHex, dealerKeygen, groupXOnlyKey, type GroupPackage, type SigningShare } from '@frostbunker/shared/crypto';
import { z } from 'zod';
import { readSecretsFile, writeJsonFileAtomic, writeSecretsFile, type SecretsAccess } from '@frostbunker/shared/config';
import type { GroupMember, XOnlyPubkey } from '@frostbunker/shared/protocol';

export interface LabLayout {
  root: string;
  coordinatorDir: string;
  nodeDirs: string[];
}

/** Where a lab keeps each process's files: `<root>/coordinator`, `<root>/node-<i>`. */
export function labLayout(root: string, maxSigners: number): LabLayout {
  return {
    root,
    coordinatorDir: join(root, 'coordinator'),
    nodeDirs: Array.from({ length: maxSigners }, (_, i) => join(root, `node-${i + 1}`)),
  };
}

export interface LabIdentitySummary {
  created: boolean;
  userPubkey?: XOnlyPubkey;
}

/**
 * Creates a k-of-n identity for the lab with a trusted dealer: shares, node identity keys, the
 * coordinator key and a transport key, written to each process's own directory. Does nothing when
 * the lab already has one, so a restart keeps the same npub.
 * @NOTE the dealer sees the whole key for an instant; distributed keygen is issue 7.
 */
export async function ensureLabIdentity(options: {
  root: string;
  threshold: number;
  maxSigners: number;
  relays: string[];
  /** Seal every secrets file under this passphrase; without it they are plaintext-marked. */
  passphrase?: string;
  /** Existing shares (e.g. imported from FROSTR) instead of a fresh dealer split; all n of them. */
  imported?: { group: GroupPackage; shares: readonly SigningShare[] };
  /** The coordinator's admin port (loopback); default 0, a free one each start (labs, tests). */
  adminPort?: number;
}): Promise<LabIdentitySummary> {
  const layout = labLayout(options.root, options.imported?.group.maxSigners ?? options.maxSigners);
  if (existsSync(join(layout.coordinatorDir, 'config.json'))) return { created: false };
  mkdirSync(options.root, { recursive: true, mode: 0o700 });

  const { group, shares } = options.imported ?? dealerKeygen({ threshold: options.threshold, maxSigners: options.maxSigners });
  if (shares.length !== group.maxSigners) {
    throw new Error(`the lab needs all ${group.maxSigners} shares of the group, got ${shares.length}`);
  }
  const coordinatorSecretKey = randomBytes(32);
  const nodeSecretKeys = shares.map(() => randomBytes(32));
  const members: GroupMember[] = shares.map((share, i) => ({
    identifier: share.identifier,
    nodePubkey: getPublicKey(nodeSecretKeys[i]!) as XOnlyPubkey,
    label: `node-${i + 1}`,
  }));
  const identityName = 'default';
  // NIP-4e: a separate, non-threshold encryption key; every node is told its pubkey at enrolment
  // and will co-sign a 10044 announcing that key and no other.
  const encryptionSecretKey = randomBytes(32);
  const encryptionPubkey = getPublicKey(encryptionSecretKey);
  const sealing = options.passphrase === undefined ? {} : { passphrase: options.passphrase };

  for (const [i, share] of shares.entries()) {
    const dir = layout.nodeDirs[i]!;
    writeJsonFileAtomic(join(dir, 'config.json'), {
      v: 1,
      label: members[i]!.label,
      relays: options.relays,
      coordinatorPubkey: getPublicKey(coordinatorSecretKey),
      identifier: share.identifier,
      group,
      epoch: 0,
      members,
      encryptionPubkeys: [encryptionPubkey],
    });
    await writeSecretsFile(join(dir, 'secrets.json'), { v: 1, nodeSecretKey: bytesToHex(nodeSecretKeys[i]!), signingShare: share.toHex() }, sealing);
  }
  // The coordinator's config is written last: its presence marks a complete identity.
  await writeSecretsFile(
    join(layout.coordinatorDir, 'secrets.json'),
    {
      v: 1,
      coordinatorSecretKey: bytesToHex(coordinatorSecretKey),
      identities: [
        {
          name: identityName,
          transportSecretKey: bytesToHex(randomBytes(32)),
          encryptionKeys: [bytesToHex(encryptionSecretKey)],
        },
      ],
    },
    sealing,
  );
  writeCoordinatorConfig({ coordinatorDir: layout.coordinatorDir, relays: options.relays, adminPort: options.adminPort ?? 0, group, members });
  for (const key of [coordinatorSecretKey, encryptionSecretKey, ...nodeSecretKeys]) key.fill(0);
  return { created: true, userPubkey: groupXOnlyKey(group) };
}

/** The coordinator's config.json for one identity at epoch 0 (dealer or DKG); written atomically. */
export function writeCoordinatorConfig(options: { coordinatorDir: string; relays: string[]; adminPort: number; group: GroupPackage; members: readonly GroupMember[] }): void {
  writeJsonFileAtomic(join(options.coordinatorDir, 'config.json'), {
    v: 1,
    relays: options.relays,
    roundTimeoutMs: 5_000,
    pingIntervalMs: 2_000,
    // Port 0: a free loopback port each start, so labs (and e2e runs) never collide; the
    // coordinator reports the real one in its `admin` status line.
    admin: { port: options.adminPort },
    identities: [{ name: 'default', group: options.group, epoch: 0, members: options.members.map(({ identifier, nodePubkey, label }) => ({ identifier, nodePubkey, label })) }],
  });
}

const coordinatorSecretsShape = z.looseObject({
  coordinatorSecretKey: z.string().regex(/^[0-9a-f]{64}$/),
  identities: z.array(z.looseObject({ name: z.string(), transportSecretKey: z.string().regex(/^[0-9a-f]{64}$/), encryptionKeys: z.array(z.string().regex(/^[0-9a-f]{64}$/)).min(1) })).min(1),
});

export interface DkgCoordinatorKeys {
  coordinatorSecretKey: string;
  coordinatorPubkey: XOnlyPubkey;
  transportPubkey: XOnlyPubkey;
  /** NIP-4e: what every joining node is told at `share-node init --encryption-pubkey`. */
  encryptionPubkey: XOnlyPubkey;
}

/**
 * First half of `keygen --dkg`: the coordinator's own secrets (coordinator key, transport key,
 * NIP-4e encryption key) in `<coordinatorDir>/secrets.json`, made once and re-read afterwards.
 * No config.json yet: the group comes from the DKG, whose commit writes it.
 */
export async function ensureDkgCoordinatorKeys(coordinatorDir: string, options: { passphrase?: string }): Promise<DkgCoordinatorKeys & { created: boolean }> {
  const path = join(coordinatorDir, 'secrets.json');
  const created = !existsSync(path);
  if (created) {
    mkdirSync(coordinatorDir, { recursive: true, mode: 0o700 });
    await writeSecretsFile(
      path,
      { v: 1, coordinatorSecretKey: bytesToHex(randomBytes(32)), identities: [{ name: 'default', transportSecretKey: bytesToHex(randomBytes(32)), encryptionKeys: [bytesToHex(randomBytes(32))] }] },
      options.passphrase === undefined ? {} : { passphrase: options.passphrase },
    );
  }
  const passphrase = options.passphrase;
  const access: SecretsAccess = passphrase === undefined ? { insecurePlaintext: true } : { insecurePlaintext: false, passphrase: () => Promise.resolve(passphrase) };
  const secrets = await readSecretsFile(path, coordinatorSecretsShape, access);
  const identity = secrets.identities[0]!;
  const pub = (hex: string) => getPublicKey(Buffer.from(hex, 'hex')) as XOnlyPubkey;
  return {
    created,
    coordinatorSecretKey: secrets.coordinatorSecretKey,
    coordinatorPubkey: pub(secrets.coordinatorSecretKey),
    transportPubkey: pub(identity.transportSecretKey),
    encryptionPubkey: pub(identity.encryptionKeys[identity.encryptionKeys.length - 1]!),
  };
}
