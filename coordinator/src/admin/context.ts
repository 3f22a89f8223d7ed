import type { Logger } from '@frostbunker/shared/logger';
import type { AclDatabase } from '../acl-store/database.js';
import type { ApprovalStore } from '../approvals/approval-store.js';
import type { ApprovalWaiter } from '../approvals/approval-waiter.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { HealthReport } from '../observability/health.js';
import type { SessionLimits } from './session-store.js';

/** One identity as operators see it. */
export interface AdminIdentity {
  name: string;
  userPubkey: string;
  transportPubkey: string;
}

/** What the admin server works on: the coordinator's own stores, injected by main.ts. */
export interface AdminDeps {
  db: AclDatabase;
  audit: AuditLog;
  approvals: ApprovalStore;
  /** `poke` lets a waiting request see an API decision at once rather than at the next poll. */
  approvalWaiter: Pick<ApprovalWaiter, 'poke'>;
  identities: readonly AdminIdentity[];
  /** The relays bunker:// URLs name. */
  relays: readonly string[];
  nowSec: () => number;
  logger: Logger;
  /** The coordinator's data directory, for the CLI commands the approval page shows. */
  dataDir: string;
  /**
   * Health and metrics of the running coordinator, read per request; bound by main.ts once the
   * identities run (until then `/health` answers 503 "starting").
   */
  observability?: { health(): HealthReport; metrics(): string };
  /** The built dashboard (index.html and assets/); default dashboard/dist in this repository. */
  dashboardDir?: string;
  /** Dashboard session lifetimes (default 8 h, 1 h idle). */
  sessionLimits?: Partial<SessionLimits>;
  /**
   * Accepts a client's nostrconnect:// URI for `identity` (grants the operator's perms, answers
   * the client from the identity's transport key); bound by main.ts, which holds the keys.
   */
  acceptNostrConnect?: (identity: string, input: { uri: string; perms?: string; ttlSec?: number }, actor: string) => Promise<{
    clientPubkey: string;
    tokenId: string;
    perms: string;
    requestedPerms?: string;
    answeredOn: string[];
  }>;
  /** Body limit for every request; small, since no request needs more. */
  bodyLimitBytes?: number;
}
