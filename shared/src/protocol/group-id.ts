import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils.js';
import type { GroupId } from './brands.js';

/** The public parts of a group that every member pins; changing any of them changes the id. */
export interface GroupIdInput {
  groupKey: string;
  threshold: number;
  maxSigners: number;
  members: readonly { identifier: string; nodePubkey: string }[];
}

/**
 * Identifies one identity's share set: sha256 over a canonical JSON of group key, threshold and
 * member bindings (identifier -> node identity pubkey), so a node refuses a package for a group
 * it did not enrol in (RELIABILITY.md T6).
 */
export function computeGroupId(input: GroupIdInput): GroupId {
  const members = [...input.members]
    .map((m) => [m.identifier, m.nodePubkey])
    .sort((a, b) => (a[0]! < b[0]! ? -1 : 1));
  const canonical = JSON.stringify(['frostbunker-group-v1', input.groupKey, input.threshold, input.maxSigners, members]);
  return bytesToHex(sha256(utf8ToBytes(canonical))) as GroupId;
}
