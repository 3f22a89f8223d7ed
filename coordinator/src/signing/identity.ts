import type { GroupPackage } from '@frostbunker/shared/crypto';
import type { FrostIdentifier, GroupId, XOnlyPubkey } from '@frostbunker/shared/protocol';

/** One share node as the coordinator knows it: its FROST index bound to its identity pubkey. */
export interface ShareNodeMember {
  readonly identifier: FrostIdentifier;
  readonly nodePubkey: XOnlyPubkey;
  /** Operator-facing name used in errors and logs, e.g. `node-2`. */
  readonly label: string;
}

/** The public material the coordinator needs to run signing sessions for one identity. */
export interface SigningIdentity {
  readonly groupId: GroupId;
  readonly group: GroupPackage;
  readonly epoch: number;
  readonly members: readonly ShareNodeMember[];
}
