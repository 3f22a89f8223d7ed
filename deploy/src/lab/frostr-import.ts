import { readFileSync } from 'node:fs';
import { importFrostrGroup, importFrostrShare, type GroupPackage, type SigningShare } from '@frostbunker/shared/crypto';

/**
 * Reads FROSTR 2.x credentials from a text file: one `bfgroup1…` and every `bfshare1…` of the
 * group, one per line (blank lines and `#` comments ignored). Each share is checked against the
 * group; 1.x share packages are refused (see importFrostrShare).
 */
export function readFrostrCredentials(path: string): { group: GroupPackage; shares: SigningShare[] } {
  const lines = readFileSync(path, 'utf8')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'));
  const groups = lines.filter((line) => line.startsWith('bfgroup1'));
  if (groups.length !== 1) throw new Error(`${path}: expected exactly one bfgroup1… line, found ${groups.length}`);
  const group = importFrostrGroup(groups[0]!);
  const shares = lines.filter((line) => line.startsWith('bfshare1')).map((line) => importFrostrShare(line, group));
  const unknown = lines.filter((line) => !line.startsWith('bfgroup1') && !line.startsWith('bfshare1'));
  if (unknown.length > 0) throw new Error(`${path}: ${unknown.length} line(s) are neither bfgroup1… nor bfshare1…`);
  if (new Set(shares.map((s) => s.identifier)).size !== shares.length) throw new Error(`${path}: the same share appears twice`);
  // Node i holds share i: order by FROST index, whatever order the file lists them in.
  const ordered = Object.keys(group.verifyingShares).map((identifier) => shares.find((s) => s.identifier === identifier));
  if (ordered.some((s) => s === undefined)) throw new Error(`${path}: a lab needs all ${group.maxSigners} shares of the group`);
  return { group, shares: ordered as SigningShare[] };
}
