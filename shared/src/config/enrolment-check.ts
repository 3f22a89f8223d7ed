import { ConfigError } from '../errors.js';
import type { GroupPackage } from '../crypto/frost.js';

/** Every verifying share of the group has exactly one member, and nothing else is a member. */
export function assertMembersMatch(
  group: GroupPackage,
  members: readonly { identifier: string }[],
  field: string,
): void {
  const shares = Object.keys(group.verifyingShares).sort();
  const ids = members.map((m) => m.identifier).sort();
  if (shares.length !== group.maxSigners || JSON.stringify(shares) !== JSON.stringify(ids)) {
    throw new ConfigError(field, 'members do not match the group package verifying shares');
  }
}
