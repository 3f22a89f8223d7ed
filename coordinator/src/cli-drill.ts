import { hexToBytes } from '@frostbunker/shared/crypto';
import type { SecretsAccess } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { initEventSigner, KIND_FROSTBUNKER_NODE } from '@frostbunker/shared/nostr';
import {
  fromNodeCeremonyMessageSchema,
  parseFailpoints,
  type FromNodeCeremonyMessage,
  type ToNodeCeremonyMessage,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import { RelayPool, RelayTransport } from '@frostbunker/shared/transport';
import { loadCoordinatorConfig } from './config.js';
import { writeDrillReport } from './drill/drill-report.js';
import { commitIdentityEpoch, DrillStateStore } from './drill/drill-state.js';
import { FailpointCrash, RefreshDrill } from './drill/refresh-drill.js';

export const DRILL_USAGE = `  drill refresh [--dry-run] [--identity name] [--step-timeout 20s]  proactive refresh of every
                                            share (same npub, same k-of-n, new epoch), tested before it is
                                            committed; writes <data>/drills/<time>-refresh.{json,txt}.
                                            --dry-run stops after the test signature (old epoch kept).
                                            Then restart the coordinator. Re-run to finish or clean up
                                            an interrupted drill.
  drill repair|reshare                      not yet (issue 7)`;

/**
 * `frostbunker drill refresh`: runs a refresh drill from its own process, as the enrolled
 * coordinator (same key, same relays) next to the running coordinator, which ignores ceremony
 * messages. Exit 0 when committed (or a clean dry run), 1 otherwise.
 */
export async function runDrillCommand(
  positionals: readonly string[],
  options: { dir: string; identity: string; dryRun: boolean; stepTimeoutMs: number; access: SecretsAccess },
): Promise<number> {
  const kind = positionals[1];
  if (kind !== 'refresh') {
    console.error(kind === 'repair' || kind === 'reshare' ? `drill ${kind}: not implemented yet (issue 7)` : `usage:\n${DRILL_USAGE}`);
    return 2;
  }
  const config = await loadCoordinatorConfig(options.dir, options.access);
  const identity = config.identities.find((i) => i.name === options.identity);
  if (!identity) throw new ConfigError('--identity', `no identity "${options.identity}" in ${options.dir}`);
  const progress = (line: string) => console.log(`${new Date().toISOString().slice(11, 23)} ${line}`);
  const failpoints = parseFailpoints(process.env.FROSTBUNKER_FAILPOINTS);

  await initEventSigner();
  const pool = new RelayPool({ urls: config.relays, logger: () => {} });
  const members = new Set<string>(identity.signing.members.map((m) => m.nodePubkey));
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
      commitCoordinatorConfig: (group, epoch) => commitIdentityEpoch(options.dir, identity.name, group, epoch),
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
    if (report.outcome === 'committed') progress('restart the coordinator now: it reads the new epoch from config.json at start');
    console.log(`report: ${paths.json}`);
    console.log(`summary: ${paths.text}`);
    return report.outcome === 'committed' || report.outcome === 'dry-run' ? 0 : 1;
  } finally {
    await Promise.allSettled([transport.close(), pool.close()]);
  }
}
