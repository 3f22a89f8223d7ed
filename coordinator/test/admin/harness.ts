import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Failpoints } from '@frostbunker/shared/config';
import { createLogger } from '@frostbunker/shared/logger';
import { openAclDatabase } from '../../src/acl-store/database.js';
import { buildHealthReport, checkDatabase } from '../../src/observability/health.js';
import { buildAdminServer } from '../../src/admin/admin-server.js';
import { AdminTokenStore } from '../../src/admin/admin-token-store.js';
import type { AdminDeps } from '../../src/admin/context.js';
import { ApprovalStore, type OpenApprovalInput } from '../../src/approvals/approval-store.js';
import { ApprovalWaiter } from '../../src/approvals/approval-waiter.js';
import { AuditLog } from '../../src/audit/audit-log.js';

export const CLIENT = 'c'.repeat(64);
export const IDENTITY = { name: 'default', userPubkey: 'a'.repeat(64), transportPubkey: 'b'.repeat(64) };
export const RELAY = 'ws://127.0.0.1:7000';
export const BASE_URL = 'http://127.0.0.1:7446';

/**
 * The admin server over a real SQLite file in a temp dir (STYLE.md: no DB mocks), driven through
 * fastify's `inject`; `alice` holds a live admin token. The waiter polls only once a minute, so a
 * wait that ends within a test ended because the API poked it.
 */
export function setupAdmin(overrides: Partial<AdminDeps> = {}, options: { failpoints?: Failpoints } = {}) {
  const dataDir = mkdtempSync(join(tmpdir(), 'frostbunker-admin-'));
  const db = openAclDatabase(join(dataDir, 'acl.db'));
  const now = { sec: 1_800_000_000 };
  const nowSec = () => now.sec;
  const audit = new AuditLog(db, { nowSec, ...(options.failpoints ? { failpoints: options.failpoints } : {}) });
  const approvals = new ApprovalStore({ db, audit, nowSec });
  const waiter = new ApprovalWaiter({ store: approvals, pollMs: 60_000 });
  const adminTokens = new AdminTokenStore({ db, audit, nowSec });
  const alice = adminTokens.create('alice', { actor: 'test', reason: 'setup' });
  const logLines: string[] = [];
  const deps: AdminDeps = {
    db,
    audit,
    approvals,
    approvalWaiter: waiter,
    identities: [IDENTITY],
    relays: [RELAY],
    nowSec,
    logger: createLogger({ name: 'admin', level: 'debug', write: (line) => logLines.push(line) }),
    dataDir,
    // A running coordinator's health: one 2-of-2 identity, both nodes up, the relay connected.
    observability: {
      health: () =>
        buildHealthReport({
          identities: [{ ...IDENTITY, epoch: 0, threshold: 2, quorumAvailable: true, nodes: [1, 2].map((i) => ({ label: `node-${i}`, online: true, frozen: false, lastSeenMsAgo: 10, latencyMs: 5, epoch: 0 })) }],
          relays: [{ url: RELAY, connected: true, lastConnectedAtMs: 0, lastError: null, reconnects: 0, liveSubscriptions: 1, lastRejection: null, degraded: false, probeMisses: 0 }],
          database: checkDatabase(db),
        }),
      metrics: () => '# HELP frostbunker_up 1\n',
    },
    ...overrides,
  };
  const { app, routes } = buildAdminServer(deps, { baseUrl: () => BASE_URL });
  const auth = { authorization: `Bearer ${alice.token}` };
  const openApproval = (input: Partial<OpenApprovalInput> = {}) =>
    approvals.open({
      identity: 'default',
      clientPubkey: CLIENT,
      requestId: 'req-1',
      method: 'sign_event',
      kind: 0,
      eventId: 'e'.repeat(64),
      request: { method: 'sign_event', params: ['{"kind":0,"content":"PRIVATE-CANARY-profile","tags":[],"created_at":1800000000}'] },
      scheme: 'nip44',
      rule: 'trust_level',
      waitingOn: 'operator',
      timeoutSec: 120,
      ...input,
    });
  const lastAudit = () => audit.tail(1)[0]!;
  return { app, routes, db, now, audit, approvals, waiter, adminTokens, alice, auth, logLines, dataDir, openApproval, lastAudit };
}
