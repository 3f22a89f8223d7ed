import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { flushDeferred, openAclDatabase, withDeferredFsync } from '../../src/acl-store/database.js';
import { endpointHarness } from './endpoint-harness.js';

// The ACL decision is committed without its own fsync; the WAL is fsynced in the thread pool while
// the answer (or the request to the share nodes) is sealed, and nothing leaves before (issue 9).
// The WAL's fsync is held or failed here so the order can be seen; the rest of the I/O is real.
const walSyncs = vi.hoisted(() => ({ calls: 0, hold: false, held: [] as (() => void)[], failNext: undefined as Error | undefined }));

vi.mock('node:fs/promises', async (importOriginal) => {
  const fs = await importOriginal<typeof import('node:fs/promises')>();
  const open = (async (...args: Parameters<typeof fs.open>) => {
    const handle = await fs.open(...args);
    const sync = async () => {
      walSyncs.calls++;
      const failure = walSyncs.failNext;
      walSyncs.failNext = undefined;
      if (walSyncs.hold) await new Promise<void>((resolve) => walSyncs.held.push(resolve));
      if (failure) throw failure;
      return handle.sync();
    };
    return new Proxy(handle, {
      get: (target, property) => {
        if (property === 'sync') return sync;
        const value: unknown = Reflect.get(target, property);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
  }) as typeof fs.open;
  return { ...fs, open, default: { ...fs, open } };
});

afterEach(() => {
  walSyncs.hold = false;
  for (const release of walSyncs.held.splice(0)) release();
  walSyncs.calls = 0;
});

describe('flushDeferred', () => {
  it('fsyncs the WAL once for the deferred commits before it, and not again with nothing new', async () => {
    const db = openAclDatabase(join(mkdtempSync(join(tmpdir(), 'frostbunker-wal-')), 'acl.db'));
    db.exec('CREATE TABLE t (n INTEGER)');
    await flushDeferred(db);
    expect(walSyncs.calls).toBe(0);
    withDeferredFsync(db, () => db.prepare('INSERT INTO t VALUES (1)').run());
    withDeferredFsync(db, () => db.prepare('INSERT INTO t VALUES (2)').run());
    await Promise.all([flushDeferred(db), flushDeferred(db)]);
    expect(walSyncs.calls).toBe(1);
    await flushDeferred(db);
    expect(walSyncs.calls).toBe(1);
    // The connection is back at synchronous=FULL (2) for every other write.
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
  });

  it('has nothing to fsync for an in-memory database', async () => {
    const db = openAclDatabase(':memory:');
    db.exec('CREATE TABLE t (n INTEGER)');
    withDeferredFsync(db, () => db.prepare('INSERT INTO t VALUES (1)').run());
    await flushDeferred(db);
    expect(walSyncs.calls).toBe(0);
  });
});

describe('NIP-46 answers wait for the decision to be on disk', () => {
  async function connectedClient() {
    const h = await endpointHarness();
    const c = h.client();
    await h.connectWithToken(c, 'get_public_key');
    return { h, c };
  }

  it('logs the decision at once but publishes the answer only once the WAL fsync is done', async () => {
    const { h, c } = await connectedClient();
    const answered = c.replies().length;
    walSyncs.hold = true;
    const handled = h.endpoint.handleEvent(c.request('get_public_key', []));
    await vi.waitFor(() => expect(walSyncs.held).toHaveLength(1));
    const rows = h.db.prepare("SELECT decision FROM request_log WHERE method = 'get_public_key'").all();
    expect(rows).toEqual([{ decision: 'allow' }]);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(c.replies()).toHaveLength(answered);
    for (const release of walSyncs.held.splice(0)) release();
    await handled;
    expect(c.replies().slice(answered)).toEqual([{ id: expect.any(String), result: '2'.repeat(64) }]);
  });

  it('answers with an error, not the result, when the WAL fsync fails', async () => {
    const { h, c } = await connectedClient();
    const answered = c.replies().length;
    walSyncs.failNext = Object.assign(new Error('EIO: i/o error, fsync'), { code: 'EIO' });
    await h.endpoint.handleEvent(c.request('get_public_key', []));
    expect(c.replies().slice(answered)).toEqual([{ id: expect.any(String), result: '', error: 'internal error' }]);
  });
});
