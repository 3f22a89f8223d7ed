import { describe, expect, it } from 'vitest';
import {
  ceremonyStartSchema,
  ceremonyTestMessage,
  computeCeremonyId,
  fromNodeMessageSchema,
  isCeremonyMessage,
  parseFailpoints,
  toShareNodeMessageSchema,
  type CeremonyParams,
} from '../../src/protocol/index.js';

const id = (n: number) => n.toString(16).padStart(64, '0');
const params: CeremonyParams = {
  kind: 'refresh',
  groupId: 'ab'.repeat(32) as CeremonyParams['groupId'],
  groupKey: `02${'cd'.repeat(32)}` as CeremonyParams['groupKey'],
  fromEpoch: 0,
  toEpoch: 1,
  threshold: 2,
  maxSigners: 3,
  newThreshold: 2,
  newMaxSigners: 3,
  dealers: [id(1), id(2), id(3)] as CeremonyParams['dealers'],
  participants: [id(1), id(2), id(3)] as CeremonyParams['participants'],
  nonce: 'ee'.repeat(16),
  createdAtSec: 1_700_000_000,
};

describe('ceremony messages', () => {
  it('the ceremony id is a hash of every parameter (a node recomputes it; any change is a new id)', () => {
    const ceremonyId = computeCeremonyId(params);
    expect(computeCeremonyId({ ...params, dealers: [...params.dealers].reverse() })).toBe(ceremonyId);
    for (const change of [{ toEpoch: 2 }, { newThreshold: 3 }, { nonce: 'ff'.repeat(16) }, { participants: params.participants.slice(0, 2) }]) {
      expect(computeCeremonyId({ ...params, ...change })).not.toBe(ceremonyId);
    }
  });

  it('is strict and versioned: an unknown field or version is refused', () => {
    const start = { v: 1, groupId: params.groupId, epoch: 0, ceremonyId: computeCeremonyId(params), type: 'ceremony_start', params };
    expect(ceremonyStartSchema.safeParse(start).success).toBe(true);
    expect(ceremonyStartSchema.safeParse({ ...start, v: 2 }).success).toBe(false);
    expect(ceremonyStartSchema.safeParse({ ...start, extra: 1 }).success).toBe(false);
    expect(ceremonyStartSchema.safeParse({ ...start, params: { ...params, secret: 'x' } }).success).toBe(false);
  });

  it('a share node accepts signing and ceremony messages alike; the coordinator’s signing schema still refuses ceremony replies', () => {
    const ceremonyId = computeCeremonyId(params);
    const status = toShareNodeMessageSchema.parse({ v: 1, groupId: params.groupId, epoch: 0, ceremonyId, type: 'ceremony_status' });
    expect(isCeremonyMessage(status)).toBe(true);
    const ping = toShareNodeMessageSchema.parse({ v: 1, groupId: params.groupId, epoch: 0, sessionId: 'aa'.repeat(16), type: 'ping' });
    expect(isCeremonyMessage(ping)).toBe(false);
    expect(fromNodeMessageSchema.safeParse({ v: 1, groupId: params.groupId, epoch: 0, ceremonyId, type: 'ceremony_ack', decision: 'commit' }).success).toBe(false);
  });

  it('the test-signature message is bound to the ceremony and the test id', () => {
    const a = ceremonyTestMessage(computeCeremonyId(params), 'aa'.repeat(16));
    expect(a).toHaveLength(32);
    expect(ceremonyTestMessage(computeCeremonyId(params), 'bb'.repeat(16))).not.toEqual(a);
    expect(ceremonyTestMessage(computeCeremonyId({ ...params, nonce: 'ff'.repeat(16) }), 'aa'.repeat(16))).not.toEqual(a);
  });

  it('parses failpoints and ignores unknown actions', () => {
    expect([...parseFailpoints('refresh.after_S3=kill; audit.insert=throw;x=explode;')]).toEqual([
      ['refresh.after_S3', 'kill'],
      ['audit.insert', 'throw'],
    ]);
    expect(parseFailpoints(undefined).size).toBe(0);
  });
});
