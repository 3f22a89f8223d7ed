#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { groupXOnlyKey, hexToBytes } from '@frostbunker/shared/crypto';
import { armedFailpoints, secretsAccessFromArgs, SECRETS_ARG_OPTIONS } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { createLogger, type LogLevel } from '@frostbunker/shared/logger';
import { createNip44Codec, initEventSigner, KIND_FROSTBUNKER_NODE } from '@frostbunker/shared/nostr';
import {
  toShareNodeMessageSchema,
  type FromNodeCeremonyMessage,
  type FromNodeMessage,
  type ToShareNodeMessage,
  isCeremonyMessage,
} from '@frostbunker/shared/protocol';
import { RelayPool, RelayTransport } from '@frostbunker/shared/transport';
import { CeremonyHandler } from './ceremony/ceremony-handler.js';
import { EpochFiles } from './ceremony/epoch-files.js';
import { isJoining, loadJoiningNode, type JoiningNode } from './ceremony/joining.js';
import { loadShareNodeConfig, type ShareNodeConfig } from './config.js';
import { startControlServer } from './control/control-server.js';
import { controlSocketPath, type ControlRequest } from './control/control-protocol.js';
import { NodeLog } from './node-log.js';
import { NodeState } from './node-state.js';
import { PolicyStore } from './policy-store.js';
import { byzantineShareArmed } from './signer/byzantine.js';
import { openNonceLedger } from './signer/nonce-ledger.js';
import { ShareSigner, type SignerTestHooks } from './signer/share-signer.js';
import { sendOrLog, serveShareNode } from './share-node-service.js';

/** Composition root of one share node: argv, signals, relays. Logs go to stderr as JSON lines. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      relay: { type: 'string', multiple: true },
      'log-level': { type: 'string', default: 'info' },
      ...SECRETS_ARG_OPTIONS,
    },
  });
  if (!values.data) throw new ConfigError('--data', 'required: the share node data directory');
  const dir = resolve(values.data);
  let logger = createLogger({ name: 'share-node', level: values['log-level'] as LogLevel, write: (line) => process.stderr.write(line) });
  const access = secretsAccessFromArgs(values, process, (message) => logger.warn(message));
  // A refresh whose commit this node recorded is finished before anything reads the files
  // (config.json and secrets.json may be mid-switch after a crash: RELIABILITY.md §2.7).
  const files = new EpochFiles(dir, access);
  const recoveredEpoch = files.recoverCommitted();
  // A node made by `share-node init` has an identity key but no share until a reshare/repair drill.
  let joining: JoiningNode | null = isJoining(dir) ? await loadJoiningNode(dir, access) : null;
  let config: ShareNodeConfig | null = joining ? null : await loadShareNodeConfig(dir, access);
  const enrolment = (config ?? joining)!;
  logger = logger.child({ node: enrolment.label });
  if (recoveredEpoch !== undefined) logger.info('finished an interrupted epoch switch', { epoch: recoveredEpoch });
  if (joining) logger.info('joining: waiting for a reshare or repair drill to deal this node its share', { nodePubkey: joining.nodePubkey });
  let pending = await files.loadPending(config?.share.identifier);
  if (pending && config && pending.fromEpoch !== config.epoch) {
    logger.warn('discarding a pending share for another epoch', { ceremonyId: pending.ceremonyId });
    files.discardPending();
    pending = null;
  }
  if (pending) logger.info('a pending epoch awaits the coordinator\'s decision', { ceremonyId: pending.ceremonyId, toEpoch: pending.toEpoch });
  // RELIABILITY.md harness §3: armed only in test mode.
  const failpoints = armedFailpoints(process.env, (message) => logger.warn(message));
  const hitFailpoint = (name: string) => {
    const action = failpoints.get(name);
    if (action === undefined) return;
    logger.warn('failpoint', { failpoint: name, action });
    if (action === 'kill') process.kill(process.pid, 'SIGKILL');
    throw new Error(`failpoint ${name}`);
  };
  const testHooks: SignerTestHooks = {
    failpoint: hitFailpoint,
    byzantine: byzantineShareArmed(failpoints),
    ledger: openNonceLedger(process.env, enrolment.label, (message) => logger.warn(message)),
  };
  const relays = values.relay?.length ? values.relay : enrolment.relays;

  const nowSec = () => Math.floor(Date.now() / 1000);
  const log = NodeLog.open(join(dir, 'node-log.jsonl'), { nowSec });
  if (!log.chainAtOpen.ok) {
    // Keep serving (the log is evidence, not a key), but say it loudly: someone edited it.
    logger.error('node log hash chain is broken', { brokenAtLine: log.chainAtOpen.brokenAtLine });
  }
  const state = new NodeState(join(dir, 'state.json'));
  const policies = await PolicyStore.open(join(dir, 'policy.json'), logger, { enrolledEncryptionPubkeys: enrolment.encryptionPubkeys });
  policies.watch();

  await initEventSigner(); // libsecp256k1 (WebAssembly) signs and verifies every relay event
  // A joining node has no config.json of its own yet: the pool's default probe interval.
  const pool = new RelayPool({ urls: relays, probeIntervalMs: config?.relayProbeIntervalMs, logger: (level, msg, fields) => logger[level](msg, fields) });
  // Only the enrolled coordinator may talk to this node; junk from others costs no ECDH.
  const transport = new RelayTransport<ToShareNodeMessage, FromNodeMessage | FromNodeCeremonyMessage>({
    secretKey: hexToBytes(enrolment.nodeSecretKey),
    pool,
    kind: KIND_FROSTBUNKER_NODE,
    schema: toShareNodeMessageSchema,
    isKnownSender: (pubkey: string) => pubkey === enrolment.coordinatorPubkey,
    // What relays keep from before this start is over: sessions past their deadline, ceremonies
    // whose decision a restarted node asks the coordinator for (RELIABILITY.md §2.7).
    liveOnlyAtStart: true,
  });
  const makeSigner = (current: ShareNodeConfig) =>
    new ShareSigner({
      groupId: current.groupId,
      epoch: current.epoch,
      group: current.group,
      groupPubkey: groupXOnlyKey(current.group),
      share: current.share,
      logger,
      nowSec,
      monotonicMs: () => performance.now(),
      policy: () => policies.current(),
      log,
      state,
      sendLater: (message, after) => sendOrLog(transport, current.coordinatorPubkey, message, logger, after),
      testHooks,
    });
  let signer: ShareSigner | null = config ? makeSigner(config) : null;
  let retired = false;
  const ceremony = new CeremonyHandler({
    config: () => config,
    joining,
    files,
    pending,
    codec: createNip44Codec(hexToBytes(enrolment.nodeSecretKey)),
    isFrozen: () => state.frozen !== null,
    onSwitched: async () => {
      // The committed epoch goes into service: re-read and re-verify the files just written.
      config = await loadShareNodeConfig(dir, access);
      signer = makeSigner(config);
      if (joining) {
        // Enrolled by the reshare: from now on a member like any other.
        joining = null;
        stopServing();
        stopServing = serveShareNode({ transport, signer: () => signer!, ceremony, logger });
      }
      process.stdout.write(`${JSON.stringify({ event: 'epoch', node: config.label, epoch: config.epoch, threshold: config.group.threshold, maxSigners: config.group.maxSigners })}\n`);
    },
    log: ({ ceremonyId, step, detail }) => void log.append({ decision: 'ceremony', sessionId: ceremonyId, code: step, reason: detail }),
    onRetired: () => {
      // The ack goes out first; then this node has nothing left to serve.
      retired = true;
      process.stdout.write(`${JSON.stringify({ event: 'retired', node: enrolment.label })}\n`);
      setTimeout(() => shutdown('retired'), 500).unref();
    },
    logger,
    nowSec,
    monotonicMs: () => performance.now(),
    failpoint: hitFailpoint,
  });
  // A joining node answers ceremony messages only; it has nothing to sign with yet.
  let stopServing = config
    ? serveShareNode({ transport, signer: () => signer!, ceremony, logger })
    : transport.onMessage(({ senderPubkey, message }) => {
        if (!isCeremonyMessage(message)) return;
        ceremony.handle(message).then(
          (reply) => sendOrLog(transport, senderPubkey, reply, logger),
          (error: unknown) => logger.error('ceremony handler failed', { type: message.type, error: String(error) }),
        );
      });
  const control = await startControlServer({
    socketPath: controlSocketPath(dir),
    logger,
    handle: (request: ControlRequest) => {
      if (!signer || !config) {
        if (request.cmd === 'status') return { node: enrolment.label, joining: !retired, retired, epoch: null, pendingEpoch: ceremony.pending?.toEpoch ?? null, frozen: state.frozen, relays: pool.health() };
        throw new Error(retired ? 'retired by a reshare: this node holds no share' : 'joining: this node has no share yet');
      }
      switch (request.cmd) {
        case 'status':
          return { node: config.label, epoch: config.epoch, pendingEpoch: ceremony.pending?.toEpoch ?? null, frozen: state.frozen, pendingApprovals: signer.pendingApprovals().length, approved: log.approvedCounts(), logChain: log.verify(), relays: pool.health(), dropped: transport.dropped() };
        case 'pending':
          return signer.pendingApprovals();
        case 'approve':
        case 'deny': {
          const result =
            request.cmd === 'approve' ? signer.decideApproval(request.id, true) : signer.decideApproval(request.id, false, request.reason);
          if (!result.ok) throw new Error(result.message);
          return result.message;
        }
        case 'freeze':
          signer.freeze(request.reason ?? 'frozen by operator');
          return 'frozen';
        case 'unfreeze':
          signer.unfreeze();
          return 'unfrozen';
        case 'reload':
          return policies.reload();
      }
    },
  });
  process.on('SIGHUP', () => void policies.reload());
  process.stdout.write(`${JSON.stringify({ event: 'started', node: enrolment.label, pid: process.pid, relays, epoch: config?.epoch ?? null, joining: joining !== null, frozen: state.frozen !== null })}\n`);

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    policies.close();
    void Promise.allSettled([control.close(), transport.close(), pool.close()]).then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2_000).unref();
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? `config error: ${error.message}` : `fatal: ${String(error)}`;
  process.stderr.write(`${message}\n`);
  process.exit(1);
});
