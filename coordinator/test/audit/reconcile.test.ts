import { describe, expect, it } from 'vitest';
import { reconcileSignatures } from '../../src/audit/reconcile.js';

const ok = { ok: true, entries: 3 };
const witness = (label: string, signed: string[], chain = ok) => ({
  label,
  entries: [{ decision: 'committed', eventId: 'x' }, ...signed.map((eventId) => ({ decision: 'signed', eventId }))],
  chain,
});

describe('reconcileSignatures', () => {
  it('is clean when every event a node co-signed is in the coordinator records', () => {
    expect(reconcileSignatures(new Set(['a', 'b']), [witness('node-1', ['a', 'b']), witness('node-2', ['a'])])).toEqual({
      ok: true, coordinatorEvents: 2, unrecorded: [], brokenNodeLogs: [],
    });
  });

  it('names every node and event the coordinator has no record of, once each', () => {
    const report = reconcileSignatures(new Set(['a']), [witness('node-1', ['a', 'gone', 'gone']), witness('node-3', ['gone'])]);
    expect(report.ok).toBe(false);
    expect(report.unrecorded).toEqual([{ node: 'node-1', eventId: 'gone' }, { node: 'node-3', eventId: 'gone' }]);
  });

  it('ignores commitments that never became signatures, and flags a node log with a broken chain', () => {
    const report = reconcileSignatures(new Set(), [witness('node-2', [], { ok: false, entries: 1, brokenAtLine: 2 } as never)]);
    expect(report).toMatchObject({ ok: false, unrecorded: [], brokenNodeLogs: [{ node: 'node-2', brokenAtLine: 2 }] });
  });
});
