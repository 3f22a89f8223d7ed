import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { VetoError, QuorumError } from '@frostbunker/shared/errors';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { CoordinatorMetrics } from '../../src/observability/coordinator-metrics.js';
import { buildHealthReport, checkDatabase } from '../../src/observability/health.js';
import { MetricsRegistry } from '../../src/observability/metrics.js';

const node = (label: string, online: boolean, frozen = false) => ({ label, online, frozen, lastSeenMsAgo: online ? 100 : null, latencyMs: online ? 12.5 : null, epoch: 0 });

describe('Prometheus registry', () => {
  it('renders counters with sorted, escaped labels, and histograms with cumulative buckets', () => {
    const registry = new MetricsRegistry();
    const counter = registry.counter('x_total', 'things');
    counter.inc({ b: '2', a: 'say "hi"\n' });
    counter.inc({ b: '2', a: 'say "hi"\n' }, 2);
    const histogram = registry.histogram('t_seconds', 'time', [0.1, 1]);
    histogram.observe(0.05);
    histogram.observe(0.5);
    histogram.observe(5);
    expect(registry.render()).toBe(
      [
        '# HELP x_total things',
        '# TYPE x_total counter',
        'x_total{a="say \\"hi\\"\\n",b="2"} 3',
        '# HELP t_seconds time',
        '# TYPE t_seconds histogram',
        't_seconds_bucket{le="0.1"} 1',
        't_seconds_bucket{le="1"} 2',
        't_seconds_bucket{le="+Inf"} 3',
        't_seconds_sum 5.55',
        't_seconds_count 3',
        '',
      ].join('\n'),
    );
  });

  it('refuses bad or duplicate metric names', () => {
    const registry = new MetricsRegistry();
    registry.counter('a_total', 'a');
    expect(() => registry.counter('a_total', 'again')).toThrow(/twice/);
    expect(() => registry.counter('A-b', 'bad')).toThrow(/expected/);
  });
});

describe('coordinator metrics', () => {
  it('counts vetoes by node and refusal code, failures by error code, and reads gauges at scrape time', async () => {
    let available = true;
    const metrics = new CoordinatorMetrics({
      identities: () => [{ name: 'default', quorumAvailable: available, nodes: [node('node-1', true), node('node-2', false)], dropped: { duplicate: 4 }, pooledCommitments: { 'node-1': 32, 'node-2': 0 } }],
      relays: () => [{ url: 'ws://127.0.0.1:1', connected: true, lastConnectedAtMs: 1, lastError: null, reconnects: 2, liveSubscriptions: 3, lastRejection: null, degraded: true, probeMisses: 2 }],
      pendingApprovals: () => 1,
      nodeChannelDropped: () => ({ stale: 2, unknown_sender: 1 }),
    });
    await expect(metrics.timeSigning('default', async () => { throw new VetoError('node-1', 'denied_kind: kind 30023 is denied'); })).rejects.toThrow(VetoError);
    await expect(metrics.timeSigning('default', async () => { throw new QuorumError('quorum unavailable', ['node-2']); })).rejects.toThrow();
    expect(await metrics.timeSigning('default', async () => 'sig')).toBe('sig');
    metrics.failover('default', ['node-3'], 'silence');
    metrics.lateMessage('default', 'node-3', 'sign_share');
    metrics.sessionsPerRequest('default', 1);
    metrics.sessionsPerRequest('default', 2);
    metrics.invalidPartial('default', 'node-2');
    available = false;
    const text = metrics.render();
    expect(text).toContain('frostbunker_vetoes_total{identity="default",node="node-1",reason="denied_kind"} 1');
    expect(text).toContain('frostbunker_sign_failures_total{code="VETOED",identity="default"} 1');
    expect(text).toContain('frostbunker_sign_failures_total{code="QUORUM_UNAVAILABLE",identity="default"} 1');
    expect(text).toContain('frostbunker_sign_duration_seconds_count{identity="default"} 1');
    expect(text).toContain('frostbunker_signing_failovers_total{cause="silence",identity="default",node="node-3"} 1');
    expect(text).toContain('frostbunker_quorum_available{identity="default"} 0');
    expect(text).toContain('frostbunker_share_node_online{identity="default",node="node-2"} 0');
    expect(text).toContain('frostbunker_relay_reconnects{relay="ws://127.0.0.1:1"} 2');
    expect(text).toContain('frostbunker_relay_degraded{relay="ws://127.0.0.1:1"} 1');
    expect(text).toContain('frostbunker_relay_probe_misses{relay="ws://127.0.0.1:1"} 2');
    expect(text).toContain('frostbunker_nip46_dropped{identity="default",reason="duplicate"} 4');
    expect(text).toContain('frostbunker_approvals_pending 1');
    expect(text).toContain('frostbunker_late_messages_total{identity="default",node="node-3",type="sign_share"} 1');
    expect(text).toContain('frostbunker_signing_sessions_per_request_bucket{identity="default",le="1"} 1');
    expect(text).toContain('frostbunker_signing_sessions_per_request_bucket{identity="default",le="2"} 2');
    expect(text).toContain('frostbunker_invalid_partials_total{identity="default",node="node-2"} 1');
    expect(text).toContain('frostbunker_node_channel_dropped{reason="stale"} 2');
    expect(text).toContain('frostbunker_pooled_commitments{identity="default",node="node-2"} 0');
  });
});

describe('health report', () => {
  const relay = (url: string, connected: boolean, degraded = false) => ({ url, connected, lastConnectedAtMs: null, lastError: connected ? null : 'ECONNREFUSED', reconnects: 0, liveSubscriptions: 0, lastRejection: null, degraded, probeMisses: degraded ? 1 : 0 });
  const identity = (quorumAvailable: boolean, nodes: ReturnType<typeof node>[]) => ({ name: 'default', userPubkey: 'ab'.repeat(32), epoch: 0, threshold: 2, quorumAvailable, nodes });

  it('is ok while k nodes serve, one relay of two is up and the database writes', () => {
    const report = buildHealthReport({ identities: [identity(true, [node('node-1', true), node('node-2', true), node('node-3', false)])], relays: [relay('ws://a', true), relay('ws://b', false)], database: { ok: true } });
    expect(report.ok).toBe(true);
    expect(report.problems).toEqual(['relay down: ws://b (still signing through the others)']);
  });

  it('shows a connected relay whose subscription probe went unanswered as degraded, and fails when no other relay delivers', () => {
    const nodes = [node('node-1', true), node('node-2', true)];
    const oneOfTwo = buildHealthReport({ identities: [identity(true, nodes)], relays: [relay('ws://a', true, true), relay('ws://b', true)], database: { ok: true } });
    expect(oneOfTwo.ok).toBe(true);
    expect(oneOfTwo.relays[0]).toMatchObject({ url: 'ws://a', degraded: true, probeMisses: 1 });
    expect(oneOfTwo.problems).toEqual(['relay degraded: ws://a (a subscription probe went unanswered; resubscribing)']);
    const only = buildHealthReport({ identities: [identity(true, nodes)], relays: [relay('ws://a', true, true), relay('ws://b', false)], database: { ok: true } });
    expect(only.ok).toBe(false);
  });

  it('names offline and frozen nodes when the quorum is lost, and fails on no relay or a broken database', () => {
    const report = buildHealthReport({
      identities: [identity(false, [node('node-1', true), node('node-2', false), node('node-3', true, true)])],
      relays: [relay('ws://a', false)],
      database: { ok: false, error: 'disk I/O error' },
    });
    expect(report.ok).toBe(false);
    expect(report.problems).toEqual([
      'default: quorum unavailable, 1 of 2 share nodes serving; offline: node-2; frozen: node-3',
      'no relay connected (ws://a)',
      'database: disk I/O error',
    ]);
  });

  it('checks the database by taking the write lock, and reports a held lock', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'frostbunker-health-')), 'acl.db');
    const db = openAclDatabase(path);
    expect(checkDatabase(db)).toEqual({ ok: true });
    const other = openAclDatabase(path);
    other.pragma('busy_timeout = 0');
    db.exec('BEGIN IMMEDIATE');
    const held = checkDatabase(other);
    db.exec('ROLLBACK');
    expect(held.ok).toBe(false);
    expect(held.error).toMatch(/locked|busy/);
  });
});
