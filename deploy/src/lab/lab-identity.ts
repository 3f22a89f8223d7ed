import { existsSync, mkdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { bytesToHex, dealerKeygen, groupXOnlyKey, identifierFromIndex } from '@frostbunker/shared/crypto';
import { writeJsonFileAtomic } from '@frostbunker/shared/config';
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
export function ensureLabIdentity(options: {
  root: string;
  threshold: number;
  maxSigners: number;
  relays: string[];
}): LabIdentitySummary {
  const layout = labLayout(options.root, options.maxSigners);
  if (existsSync(join(layout.coordinatorDir, 'config.json'))) return { created: false };
  mkdirSync(options.root, { recursive: true, mode: 0o700 });

  const { group, shares } = dealerKeygen({ threshold: options.threshold, maxSigners: options.maxSigners });
  const coordinatorSecretKey = randomBytes(32);
  const nodeSecretKeys = shares.map(() => randomBytes(32));
  const members: GroupMember[] = shares.map((share, i) => ({
    identifier: share.identifier,
    nodePubkey: getPublicKey(nodeSecretKeys[i]!) as XOnlyPubkey,
    label: `node-${i + 1}`,
  }));
  const identityName = 'default';

  shares.forEach((share, i) => {
    if (share.identifier !== identifierFromIndex(i + 1)) throw new Error('dealer returned shares out of order');
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
    });
    writeJsonFileAtomic(join(dir, 'secrets.json'), {
      v: 1,
      storage: 'insecure-plaintext',
      nodeSecretKey: bytesToHex(nodeSecretKeys[i]!),
      signingShare: share.toHex(),
    });
  });
  // The coordinator's config is written last: its presence marks a complete identity.
  writeJsonFileAtomic(join(layout.coordinatorDir, 'secrets.json'), {
    v: 1,
    storage: 'insecure-plaintext',
    coordinatorSecretKey: bytesToHex(coordinatorSecretKey),
    identities: [
      { name: identityName, transportSecretKey: bytesToHex(randomBytes(32)), connectSecret: bytesToHex(randomBytes(16)) },
    ],
  });
  writeJsonFileAtomic(join(layout.coordinatorDir, 'config.json'), {
    v: 1,
    relays: options.relays,
    roundTimeoutMs: 5_000,
    pingIntervalMs: 2_000,
    identities: [{ name: identityName, group, epoch: 0, members }],
  });
  return { created: true, userPubkey: groupXOnlyKey(group) };
}
