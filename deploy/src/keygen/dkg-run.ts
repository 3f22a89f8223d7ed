import { hexToBytes, type GroupPackage } from '@frostbunker/shared/crypto';
import { initEventSigner, KIND_FROSTBUNKER_NODE } from '@frostbunker/shared/nostr';
import { fromNodeCeremonyMessageSchema, type FromNodeCeremonyMessage, type GroupMember, type ToNodeCeremonyMessage, type XOnlyPubkey } from '@frostbunker/shared/protocol';
import { RelayPool, RelayTransport } from '@frostbunker/shared/transport';
import { DkgCeremony, writeDkgReport, type DkgReport } from './dkg-ceremony.js';

/**
 * Runs a DKG over real relays as the coordinator the joining nodes enrolled (its key signs and
 * opens every ceremony message), then writes the report next to the drill reports. Used by
 * `pnpm keygen -- --dkg` and by the lab (`pnpm start -- --dkg`).
 */
export async function runDkgOverRelays(options: {
  coordinatorDir: string;
  coordinatorSecretKey: string;
  relays: string[];
  threshold: number;
  members: readonly Omit<GroupMember, 'identifier'>[];
  commit: (group: GroupPackage, members: readonly GroupMember[]) => void;
  stepTimeoutMs?: number;
  progress: (line: string) => void;
}): Promise<{ report: DkgReport; paths: { json: string; text: string } }> {
  await initEventSigner();
  const pool = new RelayPool({ urls: options.relays, logger: () => {} });
  const known = new Set<string>(options.members.map((m) => m.nodePubkey));
  const transport = new RelayTransport<FromNodeCeremonyMessage, ToNodeCeremonyMessage>({
    secretKey: hexToBytes(options.coordinatorSecretKey),
    pool,
    kind: KIND_FROSTBUNKER_NODE,
    schema: fromNodeCeremonyMessageSchema,
    isKnownSender: (pubkey: XOnlyPubkey) => known.has(pubkey),
  });
  try {
    await pool.waitUntilConnected(10_000);
    // Replies must not race our subscription: wait for the relay's EOSE.
    for (let i = 0; i < 100 && !pool.health().some((h) => h.liveSubscriptions > 0); i++) await new Promise((r) => setTimeout(r, 50));
    options.progress(`connected to ${options.relays.join(', ')} as the coordinator; DKG ${options.threshold}-of-${options.members.length} among ${options.members.map((m) => m.label).join(', ')}`);
    const ceremony = new DkgCeremony({
      threshold: options.threshold,
      members: options.members,
      transport,
      commit: options.commit,
      stepTimeoutMs: options.stepTimeoutMs ?? 20_000,
      progress: options.progress,
      nowSec: () => Math.floor(Date.now() / 1000),
      monotonicMs: () => performance.now(),
    });
    const report = await ceremony.run();
    ceremony.close();
    return { report, paths: writeDkgReport(options.coordinatorDir, report) };
  } finally {
    await Promise.allSettled([transport.close(), pool.close()]);
  }
}
