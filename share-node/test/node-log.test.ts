import { appendFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NodeLog } from '../src/node-log.js';

function freshLog(now = { sec: 1_800_000_000 }) {
  const path = join(mkdtempSync(join(tmpdir(), 'frostbunker-node-log-')), 'node-log.jsonl');
  return { path, now, log: NodeLog.open(path, { nowSec: () => now.sec }) };
}

describe('NodeLog', () => {
  it('chains every entry to the previous one and verifies intact', () => {
    const { log } = freshLog();
    log.append({ decision: 'committed', eventId: 'e1', kind: 1 });
    log.append({ decision: 'signed', eventId: 'e1', kind: 1 });
    expect(log.verify()).toEqual({ ok: true, entries: 2 });
  });

  it('detects an edited line, a deleted line and a re-chained forgery is impossible without the prefix', () => {
    const { path, log } = freshLog();
    for (const id of ['a', 'b', 'c']) log.append({ decision: 'committed', eventId: id, kind: 1 });
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    writeFileSync(path, `${[lines[0], lines[1]!.replace('"kind":1', '"kind":0'), lines[2]].join('\n')}\n`);
    expect(log.verify()).toMatchObject({ ok: false, brokenAtLine: 2 });
    writeFileSync(path, `${[lines[0], lines[2]].join('\n')}\n`);
    expect(log.verify()).toMatchObject({ ok: false, brokenAtLine: 2 });
  });

  it('reports a garbage line as a broken link', () => {
    const { path, log } = freshLog();
    log.append({ decision: 'committed', eventId: 'a' });
    appendFileSync(path, 'not json\n');
    expect(log.verify()).toMatchObject({ ok: false, brokenAtLine: 2 });
  });

  it('counts distinct approved events per trailing window and rebuilds them on reopen', () => {
    const { path, now, log } = freshLog();
    log.append({ decision: 'committed', eventId: 'old' });
    now.sec += 3_000;
    log.append({ decision: 'committed', eventId: 'recent' });
    log.append({ decision: 'committed', eventId: 'recent' }); // a failover session for the same event
    now.sec += 90;
    log.append({ decision: 'committed', eventId: 'now' });
    log.append({ decision: 'refused', eventId: 'denied' });
    expect(log.approvedCounts()).toEqual({ lastMinute: 1, lastHour: 3, lastDay: 3 });
    const reopened = NodeLog.open(path, { nowSec: () => now.sec });
    expect(reopened.approvedCounts()).toEqual({ lastMinute: 1, lastHour: 3, lastDay: 3 });
    expect(reopened.chainAtOpen.ok).toBe(true);
    now.sec += 86_400;
    expect(reopened.approvedCounts()).toEqual({ lastMinute: 0, lastHour: 0, lastDay: 0 });
  });

  it('continues the chain across reopen', () => {
    const { path, now, log } = freshLog();
    log.append({ decision: 'committed', eventId: 'a' });
    NodeLog.open(path, { nowSec: () => now.sec }).append({ decision: 'signed', eventId: 'a' });
    expect(NodeLog.open(path, { nowSec: () => now.sec }).verify()).toEqual({ ok: true, entries: 2 });
  });
});
