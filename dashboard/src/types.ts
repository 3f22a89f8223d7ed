/** The admin API's shapes, as the coordinator's zod schemas declare them (coordinator/src/admin/schemas.ts). */
export interface Health {
  ok: boolean;
  starting?: boolean;
  identities: {
    name: string; userPubkey: string; epoch: number; threshold: number; quorumAvailable: boolean;
    nodes: { label: string; online: boolean; frozen: boolean; lastSeenMsAgo: number | null; latencyMs: number | null; epoch: number }[];
  }[];
  relays: { url: string; connected: boolean; reconnects: number; lastError: string | null; liveSubscriptions: number }[];
  database: { ok: boolean; error?: string };
  problems: string[];
}

export interface Identity { name: string; userPubkey: string; transportPubkey: string }

export interface Grant {
  grantId: string; method: string; kind?: number | '*'; source: 'explicit' | 'token';
  notBeforeSec?: number; expiresAtSec?: number; revokedAtSec?: number;
  usageCap?: { max: number; windowSec: number }; usedInWindow?: number; live: boolean;
}
export interface Denial { denialId: string; method: string; kind?: number | '*'; untilSec?: number; reason: string; actor: string; live: boolean }
export interface Client {
  clientPubkey: string; trustLevel?: string; revokedAtSec?: number;
  suspension?: { untilSec: number; reason: string; actor: string };
  grants: Grant[]; denials: Denial[];
}

export interface Approval {
  approvalId: string; identity: string; clientPubkey: string; requestId: string; method: string; kind?: number; eventId?: string;
  rule: string; waitingOn: string; createdAtSec: number; expiresAtSec: number; state: 'pending' | 'approved' | 'denied' | 'expired';
  decidedBy?: string; decidedAtSec?: number; decisionReason?: string; answeredAtSec?: number;
  scheme?: string; request?: { method: string; params: string[] };
}

export interface RequestLogRow {
  requestSeq: number; atSec: number; identity: string; clientPubkey: string; requestId: string; method: string;
  kind?: number; eventId?: string; decision: string; rule: string; grantId?: string;
}
export interface AuditEntry { seq: number; atSec: number; actor: string; action: string; target: string; reason: string; before: unknown; after: unknown }
export interface SignOutcome { outcomeSeq: number; atSec: number; identity: string; kind: number; eventId: string; ok: boolean; durationMs: number; code?: string; node?: string; reason?: string }
export interface Hour {
  hourStartSec: number; requests: number; signed: number; failed: number; vetoed: number;
  latencyMsP50: number | null; latencyMsMax: number | null; decisions: { allow: number; deny: number; ask: number };
}
export interface DrillReport {
  name: string; kind: string; identity: string; outcome: string; dryRun: boolean; startedAt: string; finishedAt: string; totalMs: number;
  epochBefore: number; epochAfter: number; sameNpub: boolean; notAcknowledged: string[]; failure: { reason: string; culprits: string[] } | null; text?: string;
}
