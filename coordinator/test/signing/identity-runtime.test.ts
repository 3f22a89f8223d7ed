import { afterEach, describe, expect, it, vi } from 'vitest';
import { dealerKeygen } from '@frostbunker/shared/crypto';
import { silentLogger } from '@frostbunker/shared/logger';
import type { FromNodeMessage } from '@frostbunker/shared/protocol';
import type { ReceivedMessage } from '@frostbunker/shared/transport';
import type { SigningIdentity } from '../../src/signing/identity.js';
import { IdentityRuntime, IdentitySwapError } from '../../src/signing/identity-runtime.js';
import { makeIdentity } from './identity-fixture.js';

/** A stand-in signer that answers with its epoch and records the messages it was given. */
function fakeSigner(identity: SigningIdentity) {
  const received: unknown[] = [];
  return { epoch: identity.epoch, received, sign: async () => `signed at epoch ${identity.epoch}`, handleMessage: (m: unknown) => void received.push(m) };
}

function fakeMonitor(identity: SigningIdentity) {
  const monitor = { epoch: identity.epoch, running: false, start: () => void (monitor.running = true), stop: () => void (monitor.running = false), handleMessage: () => {}, status: () => identity.epoch, details: () => [] };
  return monitor;
}

function runtimeFor(identity: SigningIdentity) {
  const signers: ReturnType<typeof fakeSigner>[] = [];
  const monitors: ReturnType<typeof fakeMonitor>[] = [];
  const runtime = new IdentityRuntime({
    name: 'default',
    identity,
    makeSigner: (i) => {
      const s = fakeSigner(i);
      signers.push(s);
      return s;
    },
    makeMonitor: (i) => {
      const m = fakeMonitor(i);
      monitors.push(m);
      return m;
    },
    retireAfterMs: 1_000,
    logger: silentLogger,
  });
  return { runtime, signers, monitors };
}

const message = { senderPubkey: 'aa', message: { type: 'pong' } } as unknown as ReceivedMessage<FromNodeMessage>;

describe('IdentityRuntime: a new epoch goes into service without a restart (issue 7)', () => {
  afterEach(() => vi.useRealTimers());
  const { group } = dealerKeygen({ threshold: 2, maxSigners: 3 });

  it('signs with the new epoch after a swap, runs the new quorum monitor, and lets the old signer finish its sessions for a while', async () => {
    vi.useFakeTimers();
    const { runtime, signers, monitors } = runtimeFor(makeIdentity(group, 0));
    runtime.start();
    expect(await runtime.sign({} as never)).toBe('signed at epoch 0');
    const outcome = runtime.swap(makeIdentity(group, 1));
    expect(outcome).toEqual({ swapped: true, fromEpoch: 0, toEpoch: 1 });
    expect(await runtime.sign({} as never)).toBe('signed at epoch 1');
    expect(runtime.epoch).toBe(1);
    expect(monitors.map((m) => m.running)).toEqual([false, true]);
    expect(runtime.monitor).toBe(monitors[1]);
    runtime.handleMessage(message);
    expect(signers[0]!.received).toHaveLength(1);
    expect(signers[1]!.received).toHaveLength(1);
    vi.advanceTimersByTime(1_001);
    runtime.handleMessage(message);
    expect(signers[0]!.received).toHaveLength(1);
    expect(signers[1]!.received).toHaveLength(2);
    runtime.stop();
  });

  it('does nothing when the file names the epoch already in service with the same group', () => {
    const identity = makeIdentity(group, 3);
    const { runtime, signers } = runtimeFor(identity);
    expect(runtime.swap({ ...identity })).toEqual({ swapped: false });
    expect(signers).toHaveLength(1);
  });

  it('refuses another group key (a new npub), an older epoch, or another group under the same epoch, and keeps the old state', async () => {
    const identity = makeIdentity(group, 2);
    const { runtime, signers } = runtimeFor(identity);
    const other = dealerKeygen({ threshold: 2, maxSigners: 3 }).group;
    expect(() => runtime.swap(makeIdentity(other, 3))).toThrow(/group key changed/);
    expect(() => runtime.swap(makeIdentity(group, 1))).toThrow(IdentitySwapError);
    expect(() => runtime.swap(makeIdentity(group, 2))).toThrow(/another group package/);
    expect(signers).toHaveLength(1);
    expect(runtime.epoch).toBe(2);
    expect(await runtime.sign({} as never)).toBe('signed at epoch 2');
  });
});
