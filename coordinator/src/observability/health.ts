import type { RelayHealth } from '@frostbunker/shared/transport';
import type { AclDatabase } from '../acl-store/database.js';
import type { ShareNodeHealth } from '../signing/quorum-monitor.js';

export interface IdentityHealth {
  name: string;
  userPubkey: string;
  epoch: number;
  threshold: number;
  quorumAvailable: boolean;
  nodes: ShareNodeHealth[];
}

/** `GET /health` and `pnpm frostbunker health`: can this bunker sign right now, and if not, why. */
export interface HealthReport {
  ok: boolean;
  identities: IdentityHealth[];
  relays: Pick<RelayHealth, 'url' | 'connected' | 'reconnects' | 'lastError' | 'liveSubscriptions' | 'degraded' | 'probeMisses'>[];
  database: { ok: boolean; error?: string };
  /** Plain sentences for whatever is wrong. */
  problems: string[];
}

/**
 * Checks the database for real: a read of the audit head and a write lock taken and released
 * (a full disk, a read-only mount or a stuck lock all show here, not at the next request).
 */
export function checkDatabase(db: AclDatabase): { ok: boolean; error?: string } {
  try {
    db.prepare('SELECT seq FROM audit ORDER BY seq DESC LIMIT 1').get();
    db.exec('BEGIN IMMEDIATE; ROLLBACK;');
    return { ok: true };
  } catch (error) {
    if (db.inTransaction) db.exec('ROLLBACK');
    return { ok: false, error: error instanceof Error ? error.message : String(error) };
  }
}

/** Pure assembly of the report from what each part says about itself. */
export function buildHealthReport(parts: { identities: IdentityHealth[]; relays: readonly RelayHealth[]; database: { ok: boolean; error?: string } }): HealthReport {
  const problems: string[] = [];
  for (const identity of parts.identities) {
    if (!identity.quorumAvailable) {
      const serving = identity.nodes.filter((n) => n.online && !n.frozen).map((n) => n.label);
      const offline = identity.nodes.filter((n) => !n.online).map((n) => n.label);
      const frozen = identity.nodes.filter((n) => n.frozen).map((n) => n.label);
      problems.push(
        `${identity.name}: quorum unavailable, ${serving.length} of ${identity.threshold} share nodes serving` +
          (offline.length ? `; offline: ${offline.join(', ')}` : '') +
          (frozen.length ? `; frozen: ${frozen.join(', ')}` : ''),
      );
    }
  }
  const relays = parts.relays.map(({ url, connected, reconnects, lastError, liveSubscriptions, degraded, probeMisses }) => ({
    url,
    connected,
    reconnects,
    lastError,
    liveSubscriptions,
    degraded,
    probeMisses,
  }));
  // Degraded (RELIABILITY.md G3): a probe went unanswered, so the socket is being replaced and the
  // relay counts as not delivering until a probe comes back, whether or not it is connected now.
  const degraded = relays.filter((r) => r.degraded).map((r) => r.url);
  const down = relays.filter((r) => !r.connected && !r.degraded).map((r) => r.url);
  if (down.length === relays.length) problems.push(`no relay connected (${down.join(', ')})`);
  else if (down.length > 0) problems.push(`relay down: ${down.join(', ')} (still signing through the others)`);
  if (degraded.length > 0) problems.push(`relay degraded: ${degraded.join(', ')} (a subscription probe went unanswered; resubscribing)`);
  if (!parts.database.ok) problems.push(`database: ${parts.database.error}`);
  const delivering = relays.length - down.length - degraded.length;
  const ok = parts.identities.every((i) => i.quorumAvailable) && delivering > 0 && parts.database.ok;
  return { ok, identities: parts.identities, relays, database: parts.database, problems };
}
