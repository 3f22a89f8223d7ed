import { describe, expect, it } from 'vitest';
import { fromNodeMessageSchema, toNodeMessageSchema } from '../../src/protocol/node-messages.js';

const header = { v: 1, groupId: 'a'.repeat(64), epoch: 0, sessionId: 'b'.repeat(32) };
const round2Share = { ...header, type: 'round2_share', eventId: 'c'.repeat(64), signatureShare: 'd'.repeat(64) };
const ping = { ...header, type: 'ping' };

describe('node messages', () => {
  it('accept a well-formed message in each direction', () => {
    expect(fromNodeMessageSchema.safeParse(round2Share).success).toBe(true);
    expect(toNodeMessageSchema.safeParse(ping).success).toBe(true);
  });

  it('drop a message with an unknown field (version skew or tampering)', () => {
    expect(fromNodeMessageSchema.safeParse({ ...round2Share, extra: true }).success).toBe(false);
  });

  it('drop a message of another protocol version', () => {
    expect(toNodeMessageSchema.safeParse({ ...ping, v: 2 }).success).toBe(false);
  });

  it('refuse node-bound types in the coordinator direction and vice versa', () => {
    expect(fromNodeMessageSchema.safeParse(ping).success).toBe(false);
    expect(toNodeMessageSchema.safeParse(round2Share).success).toBe(false);
  });

  it('refuse upper-case or short hex where exact lower-case hex is required', () => {
    expect(fromNodeMessageSchema.safeParse({ ...round2Share, signatureShare: 'D'.repeat(64) }).success).toBe(false);
    expect(fromNodeMessageSchema.safeParse({ ...round2Share, eventId: 'c'.repeat(62) }).success).toBe(false);
  });

  it('bound refusal reasons to 200 characters', () => {
    const refusal = { ...header, type: 'refusal', code: 'vetoed', reason: 'x'.repeat(200) };
    expect(fromNodeMessageSchema.safeParse(refusal).success).toBe(true);
    expect(fromNodeMessageSchema.safeParse({ ...refusal, reason: 'x'.repeat(201) }).success).toBe(false);
  });

  it('pins the wire shape of a round-2 share (golden)', () => {
    expect(JSON.stringify(fromNodeMessageSchema.parse(round2Share))).toBe(
      `{"v":1,"groupId":"${'a'.repeat(64)}","epoch":0,"sessionId":"${'b'.repeat(32)}","type":"round2_share","eventId":"${'c'.repeat(64)}","signatureShare":"${'d'.repeat(64)}"}`,
    );
  });
});
