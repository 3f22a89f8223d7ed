import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { ReplayStore } from '../../src/acl-store/replay-store.js';

describe('ReplayStore', () => {
  it('remembers a request key for the whole window, across a restart, and forgets it after', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'frostbunker-replay-')), 'acl.db');
    const now = { sec: 1_800_000_000 };
    const first = new ReplayStore(openAclDatabase(path), { windowSec: 360, nowSec: () => now.sec });
    expect(first.firstSighting('client:r1')).toBe(true);
    expect(first.firstSighting('client:r1')).toBe(false);
    now.sec += 359;
    const afterRestart = new ReplayStore(openAclDatabase(path), { windowSec: 360, nowSec: () => now.sec });
    expect(afterRestart.firstSighting('client:r1')).toBe(false);
    now.sec += 1;
    expect(afterRestart.firstSighting('client:r1')).toBe(true);
  });

  it('is not evicted by a flood of other keys (the window bounds it, not a count)', () => {
    const db = openAclDatabase(join(mkdtempSync(join(tmpdir(), 'frostbunker-replay-')), 'acl.db'));
    const store = new ReplayStore(db, { windowSec: 360, nowSec: () => 1_800_000_000 });
    expect(store.firstSighting('victim:r1')).toBe(true);
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) store.firstSighting(`junk:${i}`);
    })();
    expect(store.firstSighting('victim:r1')).toBe(false);
  });
});
