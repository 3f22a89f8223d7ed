import { randomBytes } from 'node:crypto';
import { getPublicKey } from 'nostr-tools/pure';
import { describe, expect, it } from 'vitest';
import { identifierFromIndex } from '@frostbunker/shared/crypto';
import type { XOnlyPubkey } from '@frostbunker/shared/protocol';
import { planRepairMembers, planReshareMembers } from '../../src/cli-drill.js';
import type { ShareNodeMember } from '../../src/signing/identity.js';

const pubkey = () => getPublicKey(randomBytes(32)) as XOnlyPubkey;
const members = (n: number): ShareNodeMember[] =>
  Array.from({ length: n }, (_, i) => ({ identifier: identifierFromIndex(i + 1), nodePubkey: pubkey(), label: `node-${i + 1}` })).reverse();

describe('drill reshare/repair: who the new members are (issue 7)', () => {
  it('--nodes N keeps indices 1..N in order; a list adds joining nodes as the next indices', () => {
    const current = members(5);
    expect(planReshareMembers(current, '3').map((m) => m.label)).toEqual(['node-1', 'node-2', 'node-3']);
    const [a, b] = [pubkey(), pubkey()];
    const grown = planReshareMembers(members(3), `${a},backup:${b}`);
    expect(grown.map((m) => [m.label, m.identifier])).toEqual([
      ['node-1', identifierFromIndex(1)],
      ['node-2', identifierFromIndex(2)],
      ['node-3', identifierFromIndex(3)],
      ['node-4', identifierFromIndex(4)],
      ['backup', identifierFromIndex(5)],
    ]);
    expect(grown[4]!.nodePubkey).toBe(b);
  });

  it('refuses a count out of range, a malformed pubkey and a pubkey that is already a member', () => {
    const current = members(3);
    expect(() => planReshareMembers(current, '4')).toThrow(/first N/);
    expect(() => planReshareMembers(current, '1')).toThrow(/first N/);
    expect(() => planReshareMembers(current, 'zz')).toThrow(/not a node pubkey/);
    expect(() => planReshareMembers(current, current[0]!.nodePubkey)).toThrow(/already a member/);
  });

  it('repair moves exactly the named index to the new host, keeping its label; the host must be new', () => {
    const current = members(3);
    const host = pubkey();
    const repaired = planRepairMembers(current, '2', host);
    expect(repaired.map((m) => m.label)).toEqual(['node-1', 'node-2', 'node-3']);
    expect(repaired.map((m) => m.nodePubkey)).toEqual([current[2]!.nodePubkey, host, current[0]!.nodePubkey]);
    expect(() => planRepairMembers(current, '4', host)).toThrow(/no member with index 4/);
    expect(() => planRepairMembers(current, '2', current[0]!.nodePubkey)).toThrow(/new host/);
  });
});
