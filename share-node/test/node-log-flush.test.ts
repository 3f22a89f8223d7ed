import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { computeEventId } from '@frostbunker/shared/crypto';
import { silentLogger } from '@frostbunker/shared/logger';
import type { FromNodeMessage, ToNodeMessage, XOnlyPubkey } from '@frostbunker/shared/protocol';
import type { SendOptions, Transport } from '@frostbunker/shared/transport';
import { NodeLog } from '../src/node-log.js';
import { serveShareSigner } from '../src/share-node-service.js';
import { signerGroup } from './signer-group.js';

// The node log's asynchronous fsync (issue 9): a signer's witness lines are written at once and
// fsynced while its reply is sealed; the reply leaves only after the fsync. `fsync` is held here
// so the order can be seen; everything else in node:fs is real.
const fsyncs = vi.hoisted(() => ({
  calls: 0,
  held: [] as { fd: number; done: (error: Error | null) => void }[],
  hold: false,
  failNext: undefined as Error | undefined,
}));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs')>();
  const fsync = (fd: number, done: (error: Error | null) => void) => {
    fsyncs.calls++;
    const failure = fsyncs.failNext;
    fsyncs.failNext = undefined;
    const finish = (error: Error | null) => (failure ? done(failure) : fs.fsync(fd, done));
    if (fsyncs.hold) fsyncs.held.push({ fd, done: () => finish(null) });
    else finish(null);
  };
  return { ...fs, fsync, default: { ...fs, fsync } };
});

function freshLog() {
  const path = join(mkdtempSync(join(tmpdir(), 'frostbunker-node-log-flush-')), 'node-log.jsonl');
  return { path, log: NodeLog.open(path, { nowSec: () => 1_800_000_000 }) };
}

/** Lets the fsyncs held so far finish. */
function releaseHeld(): void {
  for (const { done } of fsyncs.held.splice(0)) done(null);
}

afterEach(() => {
  fsyncs.hold = false;
  releaseHeld();
  fsyncs.calls = 0;
});

describe('NodeLog.flush', () => {
  it('writes a deferred line at once and fsyncs it only on flush; nothing pending costs no fsync', async () => {
    const { path, log } = freshLog();
    await log.flush();
    expect(fsyncs.calls).toBe(0);
    log.append({ decision: 'committed', eventId: 'e1', kind: 1 }, { sync: false });
    expect(readFileSync(path, 'utf8')).toContain('"eventId":"e1"');
    expect(fsyncs.calls).toBe(0);
    await log.flush();
    expect(fsyncs.calls).toBe(1);
    await log.flush();
    expect(fsyncs.calls).toBe(1);
  });

  it('serves every waiter with one fsync, and a line written during it gets a second one', async () => {
    const { log } = freshLog();
    fsyncs.hold = true;
    log.append({ decision: 'committed', eventId: 'a' }, { sync: false });
    let firstDone = false;
    let secondDone = false;
    const first = log.flush().then(() => void (firstDone = true));
    const alsoFirst = log.flush();
    await vi.waitFor(() => expect(fsyncs.held).toHaveLength(1));
    log.append({ decision: 'signed', eventId: 'a' }, { sync: false });
    const second = log.flush().then(() => void (secondDone = true));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect([firstDone, secondDone, fsyncs.calls]).toEqual([false, false, 1]);
    releaseHeld();
    await Promise.all([first, alsoFirst]);
    // The first fsync started before 'signed' was written, so the second waiter needs another.
    expect(secondDone).toBe(false);
    await vi.waitFor(() => expect(fsyncs.held).toHaveLength(1));
    releaseHeld();
    await second;
    expect(fsyncs.calls).toBe(2);
  });

  it('rejects when the fsync fails, and a later flush tries again', async () => {
    const { log } = freshLog();
    log.append({ decision: 'committed', eventId: 'b' }, { sync: false });
    fsyncs.failNext = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    await expect(log.flush()).rejects.toThrow('EIO');
    await log.flush();
    expect(fsyncs.calls).toBe(2);
  });

  it('close() makes pending lines durable itself (fsyncSync) and the log reopens on the next append', async () => {
    const { path, log } = freshLog();
    log.append({ decision: 'committed', eventId: 'c' }, { sync: false });
    log.close();
    await log.flush();
    expect(fsyncs.calls).toBe(0);
    log.append({ decision: 'signed', eventId: 'c' });
    expect(NodeLog.open(path, { nowSec: () => 1_800_000_000 }).verify()).toEqual({ ok: true, entries: 2 });
  });
});

describe('serveShareSigner: a reply leaves only after its witness lines are on disk', () => {
  /** A transport that records what was handed to it and when `after` let it go. */
  function recordingTransport() {
    let deliver: ((message: ToNodeMessage) => void) | undefined;
    const sent: FromNodeMessage[] = [];
    const failed: string[] = [];
    const transport: Transport<ToNodeMessage, FromNodeMessage> = {
      selfPubkey: 'a'.repeat(64) as XOnlyPubkey,
      async send(_recipient: XOnlyPubkey, message: FromNodeMessage, options?: SendOptions) {
        try {
          await options?.after;
        } catch (error) {
          failed.push(String(error));
          throw error;
        }
        sent.push(message);
      },
      onMessage(handler) {
        deliver = (message) => handler({ senderPubkey: 'c'.repeat(64) as XOnlyPubkey, message, createdAtSec: 0 });
        return () => {};
      },
      dropped: () => ({}),
      close: async () => {},
    };
    return { transport, sent, failed, deliver: (message: ToNodeMessage) => deliver!(message) };
  }

  it('holds z_i until the fsync of its committed and signed lines finishes; a failed fsync sends nothing', async () => {
    const g = signerGroup();
    const { transport, sent, failed, deliver } = recordingTransport();
    serveShareSigner({ transport, signer: g.signers[0]!, logger: silentLogger });
    const [a, b] = [g.pool(0, 4)[0]!, g.pool(1, 4)[0]!];
    const signRequest = (content: string): ToNodeMessage => {
      const e = g.event(content);
      return { ...g.header(2), type: 'sign_request', event: e, eventId: computeEventId(e) as never, commitments: [a, b] };
    };

    fsyncs.hold = true;
    deliver(signRequest('held until the fsync'));
    await vi.waitFor(() => expect(fsyncs.held).toHaveLength(1));
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(sent).toEqual([]);
    const lines = readFileSync(join(g.dir, 'node-1', 'node-log.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l).decision);
    expect(lines.slice(-2)).toEqual(['committed', 'signed']);
    releaseHeld();
    await vi.waitFor(() => expect(sent.map((m) => m.type)).toEqual(['sign_share']));

    fsyncs.hold = false;
    fsyncs.failNext = new Error('EIO: i/o error, fsync');
    const [c, d] = [g.pool(0, 1)[0]!, g.pool(1, 1)[0]!];
    const e = g.event('fsync fails');
    deliver({ ...g.header(2), type: 'sign_request', event: e, eventId: computeEventId(e) as never, commitments: [c, d] });
    await vi.waitFor(() => expect(failed).toHaveLength(1));
    expect(failed[0]).toContain('EIO');
    expect(sent).toHaveLength(1);
  });
});
