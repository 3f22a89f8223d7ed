import { randomBytes } from 'node:crypto';
import { getPublicKey } from 'nostr-tools/pure';
import type { GroupPackage } from '@frostbunker/shared/crypto';
import { computeGroupId, type XOnlyPubkey } from '@frostbunker/shared/protocol';
import type { SigningIdentity } from '../../src/signing/identity.js';

/** A signing identity over `group` with fresh node keys, as config.json would describe it. */
export function makeIdentity(group: GroupPackage, epoch: number, labels = ['node-1', 'node-2', 'node-3']): SigningIdentity {
  const members = Object.keys(group.verifyingShares).sort().map((identifier, i) => ({
    identifier,
    nodePubkey: getPublicKey(randomBytes(32)) as XOnlyPubkey,
    label: labels[i] ?? `node-${i + 1}`,
  })) as unknown as SigningIdentity['members'];
  return { groupId: computeGroupId({ ...group, members }), group, epoch, members };
}

