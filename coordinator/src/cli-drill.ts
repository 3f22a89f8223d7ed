import { hexToBytes, identifierFromIndex } from '@frostbunker/shared/crypto';
import { armedFailpoints, type SecretsAccess } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { initEventSigner, KIND_FROSTBUNKER_NODE } from '@frostbunker/shared/nostr';
import {
  fromNodeCeremonyMessageSchema,
  type FromNodeCeremonyMessage,
  type ToNodeCeremonyMessage,
  type XOnlyPubkey,
  xOnlyPubkeySchema,
} from '@frostbunker/shared/protocol';
import type { ShareNodeMember } from './signing/identity.js';
import { RelayPool, RelayTransport } from '@frostbunker/shared/transport';
import { join } from 'node:path';
import { loadCoordinatorConfig } from './config.js';
import { openAclDatabase } from './acl-store/database.js';
import { AuditLog } from './audit/audit-log.js';
import { writeDrillReport } from './drill/drill-report.js';
import { commitIdentityEpoch, DrillStateStore } from './drill/drill-state.js';
import { FailpointCrash, RefreshDrill } from './drill/refresh-drill.js';

export const DRILL_USAGE = `  drill refresh [--dry-run] [--identity name] [--step-timeout 20s]  proactive refresh of every
                                            share (same npub, same k-of-n, new epoch), tested before it is
                                            committed; writes <data>/drills/<time>-refresh.{json,txt}.
                                            --dry-run stops after the test signature (old epoch kept).
                                            The running coordinator picks up the new epoch
                                            (config.json watch, or SIGHUP). Re-run to finish or clean
                                            up an interrupted drill.
  drill reshare --threshold K --nodes N|<pubkey>[,<pubkey>…]  change (k, n), same npub, new epoch:
                                            --nodes N keeps nodes 1..N (the others destroy their shares);
                                            --nodes <pubkeys> adds joining nodes (made by \`share-node
                                            init\`) as the next indices (label:pubkey names one)
  drill repair --index N --node-pubkey <pubkey>  re-enroll index N (a lost node) on a new host made by
                                            \`share-node init\`, from k helpers, without the secret:
                                            same npub and (k, n), every share renewed, so the lost
                                            share no longer signs`;

/** The members after repairing index `index` onto the host `nodePubkey` (same label). Pure. */
export function planRepairMembers(current: readonly ShareNodeMember[], index: string, nodePubkey: string): ShareNodeMember[] {
  const n = Number(index);
  const identifier = Number.isInteger(n) && n >= 1 && n <= 255 ? identifierFromIndex(n) : undefined;
  const lost = current.find((m) => m.identifier === identifier);
  if (!lost) throw new ConfigError('--index', `no member with index ${index} (1..${current.length})`);
  const parsed = xOnlyPubkeySchema.safeParse(nodePubkey);
  if (!parsed.success) throw new ConfigError('--node-pubkey', 'expected the new node\'s pubkey, 64 hex (share-node init prints it)');
  if (current.some((m) => m.nodePubkey === parsed.data)) throw new ConfigError('--node-pubkey', 'already a member: a repaired index needs a new host identity');
  return planReshareMembers(current, String(current.length)).map((m) => (m.identifier === lost.identifier ? { ...m, nodePubkey: parsed.data } : m));
}

/**
 * The new members of a reshare from \`--nodes\`: a count keeps the first N indices; a list of node
 * pubkeys (optionally \`label:pubkey\`) adds joining nodes as indices n+1, n+2, … Pure.
 */
export function planReshareMembers(current: readonly ShareNodeMember[], nodes: string): ShareNodeMember[] {
  const ordered = Array.from({ length: current.length }, (_, i) => current.find((m) => m.identifier === identifierFromIndex(i + 1)));
  if (ordered.some((m) => m === undefined)) throw new ConfigError('--nodes', 'the current members are not indices 1..n');
  const kept = ordered as ShareNodeMember[];
  if (/^\d+$/.test(nodes.trim())) {
    const count = Number(nodes);
    if (count < 2 || count > kept.length) throw new ConfigError('--nodes', `a count keeps the first N of ${kept.length} nodes (2..${kept.length}); to add nodes list their pubkeys`);
    return kept.slice(0, count);
  }
  const added = nodes.split(',').map((entry, i) => {
    const [label, pubkey] = entry.includes(':') ? entry.split(':') : [`node-${kept.length + i + 1}`, entry];
    const parsed = xOnlyPubkeySchema.safeParse(pubkey?.trim());
    if (!parsed.success || !/^[a-z0-9-]{1,32}$/.test(label!.trim())) throw new ConfigError('--nodes', `"${entry}" is not a node pubkey (64 hex) or label:pubkey`);
    if (current.some((m) => m.nodePubkey === parsed.data)) throw new ConfigError('--nodes', `${parsed.data.slice(0, 12)}… is already a member`);
    return { identifier: identifierFromIndex(kept.length + i + 1), nodePubkey: parsed.data, label: label!.trim() };
  });
  return [...kept, ...added];
}

/**
 * `frostbunker drill refresh`: runs a refresh drill from its own process, as the enrolled
 * coordinator (same key, same relays) next to the running coordinator, which ignores ceremony
 * messages. Exit 0 when committed (or a clean dry run), 1 otherwise.
 */
export async function runDrillCommand(
  positionals: readonly string[],
  options: { dir: string; identity: string; dryRun: boolean; stepTimeoutMs: number; access: SecretsAccess; threshold?: string; nodes?: string; index?: string; nodePubkey?: string },
): Promise<number> {
  const kind = positionals[1];
  if (kind !== 'refresh' && kind !== 'reshare' && kind !== 'repair') {
    console.error(`usage:\n${DRILL_USAGE}`);
    return 2;
  }
  const config = await loadCoordinatorConfig(options.dir, options.access);
  const identity = config.identities.find((i) => i.name === options.identity);
  if (!identity) throw new ConfigError('--identity', `no identity "${options.identity}" in ${options.dir}`);
  let reshare: { threshold: number; newMembers: ShareNodeMember[]; repair?: boolean } | undefined;
  if (kind === 'repair') {
    if (options.index === undefined || options.nodePubkey === undefined) throw new ConfigError('--index/--node-pubkey', 'drill repair needs both');
    reshare = { threshold: identity.signing.group.threshold, newMembers: planRepairMembers(identity.signing.members, options.index, options.nodePubkey), repair: true };
  }
  if (kind === 'reshare') {
    if (options.threshold === undefined || options.nodes === undefined) throw new ConfigError('--threshold/--nodes', 'drill reshare needs both');
    const newMembers = planReshareMembers(identity.signing.members, options.nodes);
    const threshold = Number(options.threshold);
    if (!Number.isInteger(threshold) || threshold < 2 || threshold > newMembers.length) throw new ConfigError('--threshold', `expected 2..${newMembers.length}`);
    reshare = { threshold, newMembers };
  }
  const progress = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
  // RELIABILITY.md harness §3: armed only in test mode.
  const failpoints = armedFailpoints(process.env, (message) => console.error(`warning: ${message}`));

  const db = openAclDatabase(join(options.dir, 'acl.db'));
  const auditLog = new AuditLog(db, { nowSec: () => Math.floor(Date.now() / 1000) });
  const audit = (action: string, detail: Record<string, unknown>) =>
    db.transaction(() => auditLog.append({ actor: 'drill', action, target: identity.name, reason: `frostbunker drill ${kind}`, before: null, after: detail }))();

  await initEventSigner();
  const pool = new RelayPool({ urls: config.relays, logger: () => {} });
  const members = new Set<string>([...identity.signing.members, ...(reshare?.newMembers ?? [])].map((m) => m.nodePubkey));
  const transport = new RelayTransport<FromNodeCeremonyMessage, ToNodeCeremonyMessage>({
    secretKey: hexToBytes(config.coordinatorSecretKey),
    pool,
    kind: KIND_FROSTBUNKER_NODE,
    schema: fromNodeCeremonyMessageSchema,
    isKnownSender: (pubkey: XOnlyPubkey) => members.has(pubkey),
  });
  try {
    await pool.waitUntilConnected(10_000);
    // Replies must not race our subscription: wait for the relay's EOSE.
    for (let i = 0; i < 100 && !pool.health().some((h) => h.liveSubscriptions > 0); i++) await new Promise((r) => setTimeout(r, 50));
    progress(`connected to ${config.relays.join(', ')} as the coordinator of "${identity.name}"`);
    const drill = new RefreshDrill({
      identityName: identity.name,
      identity: identity.signing,
      transport,
      store: new DrillStateStore(options.dir, identity.name),
      commitCoordinatorConfig: (group, epoch, newMembers) => commitIdentityEpoch(options.dir, identity.name, group, epoch, newMembers),
      ...(reshare ? { reshare } : {}),
      audit,
      dryRun: options.dryRun,
      stepTimeoutMs: options.stepTimeoutMs,
      progress,
      nowSec: () => Math.floor(Date.now() / 1000),
      monotonicMs: () => performance.now(),
      failpoint: (name) => {
        const action = failpoints.get(name);
        if (action === undefined) return;
        progress(`failpoint ${name}: ${action}`);
        if (action === 'kill') process.kill(process.pid, 'SIGKILL');
        throw new FailpointCrash(`failpoint ${name}`);
      },
    });
    const report = await drill.run();
    drill.close();
    const paths = writeDrillReport(options.dir, report);
    progress(`${report.outcome}: npub ${report.sameNpub ? 'unchanged' : 'CHANGED'}, epoch ${report.epochBefore} -> ${report.epochAfter}${report.failure ? `; ${report.failure.reason}` : ''}`);
    if (report.notAcknowledged.length > 0) progress(`not acknowledged: ${report.notAcknowledged.join(', ')} (re-run the drill when they are back)`);
    if (report.outcome === 'committed') progress('the running coordinator picks up the new epoch from config.json (watch; SIGHUP forces it)');
    console.log(`report: ${paths.json}`);
    console.log(`summary: ${paths.text}`);
    return report.outcome === 'committed' || report.outcome === 'dry-run' ? 0 : 1;
  } finally {
    await Promise.allSettled([transport.close(), pool.close()]);
    db.close();
  }
}
