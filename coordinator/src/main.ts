#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { getPublicKey } from 'nostr-tools/pure';
import { computeEventId, groupXOnlyKey, hexToBytes } from '@frostbunker/shared/crypto';
import { Failpoints, secretsAccessFromArgs, SECRETS_ARG_OPTIONS, writeJsonFileAtomic } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { createLogger, type LogLevel } from '@frostbunker/shared/logger';
import { initEventSigner, KIND_FROSTBUNKER_NODE } from '@frostbunker/shared/nostr';
import { fromNodeMessageSchema, WINDOWS, type FromNodeMessage, type ToNodeMessage, type XOnlyPubkey } from '@frostbunker/shared/protocol';
import { RelayPool, RelayTransport, ReplyRedelivery } from '@frostbunker/shared/transport';
import { AclStore } from './acl-store/acl-store.js';
import { openAclDatabase } from './acl-store/database.js';
import { ReplayStore } from './acl-store/replay-store.js';
import { TokenStore } from './acl-store/token-store.js';
import { startAdminServer } from './admin/admin-server.js';
import type { AdminDeps } from './admin/context.js';
import { CoordinatorMetrics } from './observability/coordinator-metrics.js';
import { buildHealthReport, checkDatabase } from './observability/health.js';
import { SignLog } from './observability/sign-log.js';
import { AuditLog } from './audit/audit-log.js';
import { loadCoordinatorConfig } from './config.js';
import { ApprovalDesk } from './approvals/approval-desk.js';
import { ApprovalStore } from './approvals/approval-store.js';
import { ApprovalWaiter } from './approvals/approval-waiter.js';
import { AclGate } from './nip46/acl-gate.js';
import { EncryptionKeyAnnouncer } from './encryption/announcer.js';
import { EncryptionKeyring } from './encryption/keyring.js';
import { Nip46Endpoint } from './nip46/endpoint.js';
import { acceptNostrConnectUri } from './nip46/nostrconnect-accept.js';
import { DEFAULT_TOKEN_PERMS } from './connection-token.js';
import { QuorumMonitor, type QuorumStatus, type ShareNodeHealth } from './signing/quorum-monitor.js';
import { SigningCoordinator, type SignedEvent, type SignHooks } from './signing/signing-coordinator.js';
import { IdentityRuntime } from './signing/identity-runtime.js';
import { ConfigWatcher, reloadSigningConfig } from './config-reload.js';

/**
 * Composition root: the only file that reads argv, touches signals and starts network activity.
 * Status lines for supervisors (the lab, tests) go to stdout as JSON; logs go to stderr.
 */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      data: { type: 'string' },
      relay: { type: 'string', multiple: true },
      'log-level': { type: 'string', default: 'info' },
      ...SECRETS_ARG_OPTIONS,
    },
    allowPositionals: false,
  });
  if (!values.data) throw new ConfigError('--data', 'required: the coordinator data directory');
  const dir = resolve(values.data);
  const logger = createLogger({
    name: 'coordinator',
    level: values['log-level'] as LogLevel,
    write: (line) => process.stderr.write(line),
  });
  const access = secretsAccessFromArgs(values, process, (message) => logger.warn(message));
  const config = await loadCoordinatorConfig(dir, access);
  const relays = values.relay?.length ? values.relay : config.relays;
  const status = (event: string, fields: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ event, ...fields })}\n`);

  await initEventSigner(); // libsecp256k1 (WebAssembly) signs and verifies every relay event
  const pool = new RelayPool({ urls: relays, probeIntervalMs: config.relayProbeIntervalMs, logger: (level, msg, fields) => logger[level](msg, fields) });
  const members = new Set(config.identities.flatMap((i) => i.signing.members.map((m) => m.nodePubkey)));
  const transport = new RelayTransport<FromNodeMessage, ToNodeMessage>({
    secretKey: hexToBytes(config.coordinatorSecretKey),
    pool,
    kind: KIND_FROSTBUNKER_NODE,
    schema: fromNodeMessageSchema,
    isKnownSender: (pubkey: string) => members.has(pubkey as XOnlyPubkey),
  });

  const nowSec = () => Math.floor(Date.now() / 1000);
  const db = openAclDatabase(join(dir, 'acl.db'));
  // RELIABILITY.md harness §3: armed only in test mode (G11 audit.insert, request_log.insert).
  const failpoints = Failpoints.fromEnv(process.env, (message) => logger.warn(message));
  const audit = new AuditLog(db, { nowSec, failpoints });
  const aclStore = new AclStore(db, { nowSec, failpoints });
  const replays = new ReplayStore(db, { windowSec: WINDOWS.nip46RequestPastSec + WINDOWS.nip46RequestFutureSec, nowSec });
  const approvals = new ApprovalStore({ db, audit, nowSec });
  const approvalWaiter = new ApprovalWaiter({ store: approvals });
  // The admin server listens before any NIP-46 endpoint starts, so every approval link handed out
  // already answers, and names the real port (admin.port 0 picks a free one).
  const adminDeps: AdminDeps = {
    db,
    audit,
    approvals,
    approvalWaiter,
    relays,
    nowSec,
    dataDir: dir,
    logger: logger.child({ component: 'admin' }),
    identities: config.identities.map((identity) => ({
      name: identity.name,
      userPubkey: groupXOnlyKey(identity.signing.group),
      transportPubkey: getPublicKey(hexToBytes(identity.transportSecretKey)),
    })),
  };
  const admin = await startAdminServer(adminDeps, config.admin);
  logger.info('admin API listening', { url: admin.url, publicUrl: admin.publicUrl });
  status('admin', { url: admin.url });
  const adminUrl = admin.publicUrl;
  // The CLI (`frostbunker health`) finds the running coordinator's admin server here.
  writeJsonFileAtomic(join(dir, 'admin.json'), { url: admin.url, pid: process.pid });
  type Runtime = IdentityRuntime<SignedEvent, SignHooks, QuorumStatus, ShareNodeHealth[]>;
  const observed: { runtime: Runtime; endpoint: Nip46Endpoint }[] = [];
  const metrics = new CoordinatorMetrics({
    identities: () => observed.map(({ runtime, endpoint }) => ({ name: runtime.name, quorumAvailable: runtime.monitor.status().available, nodes: runtime.monitor.details(), dropped: endpoint.dropped(), pooledCommitments: runtime.pooledCommitments() })),
    relays: () => pool.health(),
    pendingApprovals: () => approvals.countPending(),
    nodeChannelDropped: () => transport.dropped(),
  });
  // Issue 10: each signing request's latency or failure (veto node and reason), for the dashboard.
  const signLog = new SignLog({ db, nowSec, onWriteError: () => logger.warn('could not record a signing outcome') });
  const stops: (() => void)[] = [() => approvalWaiter.stop()];
  for (const identity of config.identities) {
    const log = logger.child({ identity: identity.name });
    // issue 7: signer and quorum monitor are rebuilt for each new epoch a drill commits (config-reload.ts).
    const runtime: Runtime = new IdentityRuntime({
      name: identity.name,
      identity: identity.signing,
      makeSigner: (signing) =>
        new SigningCoordinator({
          identity: signing,
          sender: transport,
          roundTimeoutMs: config.roundTimeoutMs,
          logger: log,
          observer: {
            failover: (excluded, cause) => metrics.failover(identity.name, excluded, cause),
            lateMessage: (node, type) => metrics.lateMessage(identity.name, node, type),
            sessionsPerRequest: (sessions) => metrics.sessionsPerRequest(identity.name, sessions),
            // Blame with evidence (RELIABILITY.md T3): the node-signed reply goes into the audit chain.
            invalidPartial: (evidence) => {
              metrics.invalidPartial(identity.name, evidence.node);
              db.transaction(() => audit.append({ actor: 'coordinator', action: 'signing.invalid_partial', target: evidence.nodePubkey, reason: `invalid signature share from ${evidence.node}`, before: null, after: { identity: identity.name, ...evidence } }))();
            },
          },
          // issue 9: one-round signing with pre-shared commitments (two rounds when the pool is empty).
          oneRound: {},
        }),
      makeMonitor: (signing) =>
        new QuorumMonitor({
          identity: signing,
          sender: transport,
          intervalMs: config.pingIntervalMs,
          logger: log,
          onChange: (quorum) => {
            status('quorum', { identity: identity.name, epoch: signing.epoch, ...quorum });
            announcer.onQuorum(quorum.available);
          },
        }),
      retireAfterMs: config.roundTimeoutMs * 4,
      logger: log,
    });
    const keyring = new EncryptionKeyring(identity.encryptionKeys);
    const announcer = new EncryptionKeyAnnouncer({
      identity: identity.name,
      userPubkey: runtime.userPubkey,
      encryptionPubkey: keyring.currentPubkey,
      sign: (event) => {
        aclStore.logInternalSigning(identity.name, { kind: event.kind, eventId: computeEventId(event) }, 'internal:encryption_key_announcement');
        return runtime.sign(event);
      },
      publish: (event) => pool.publish(event),
      statePath: join(dir, 'state.json'),
      logger: log,
      onAnnounced: (event) => status('announced', { identity: identity.name, kind: event.kind, eventId: event.id, encryptionPubkey: keyring.currentPubkey }),
    });
    // RELIABILITY.md G2: replies sent around a relay restart go out again once clients are back.
    const replies = new ReplyRedelivery({ pool, secretKey: hexToBytes(identity.transportSecretKey), logger: (level, msg, fields) => log[level](msg, fields) });
    const endpoint = new Nip46Endpoint({
      pool: replies,
      requestDedupe: {
        firstSighting: (key, scheme) => replays.firstSighting(`${identity.name}:${key}`, scheme ?? null),
        answered: (key) => replays.answered(`${identity.name}:${key}`),
        takeInterrupted: () => replays.takeInterrupted(`${identity.name}:`).map(({ key, scheme }) => ({ key: key.slice(identity.name.length + 1), scheme })),
      },
      transportSecretKey: hexToBytes(identity.transportSecretKey),
      isKnownClient: (pubkey) => aclStore.isKnownClient(identity.name, pubkey),
      onAnswered: (method, ok) => metrics.request(identity.name, method, ok),
      logger: log,
      context: {
        userPubkey: runtime.userPubkey,
        relays,
        acl: new AclGate({
          identity: identity.name,
          store: aclStore,
          tokens: new TokenStore({ db, audit, identity: identity.name, nowSec }),
          onDecision: (decision) => metrics.decision(identity.name, decision),
        }),
        approvals: new ApprovalDesk({
          identity: identity.name,
          store: approvals,
          waiter: approvalWaiter,
          acl: aclStore,
          urlFor: (approvalId) => `${adminUrl.replace(/\/$/, '')}/approvals/${approvalId}`,
          timeoutSec: config.approvalTimeoutSec,
        }),
        sign: (event, hooks) => signLog.time(identity.name, { kind: event.kind, eventId: computeEventId(event) }, () => metrics.timeSigning(identity.name, () => runtime.sign(event, hooks))),
        encryption: keyring,
      },
    });
    transport.onMessage((received) => runtime.handleMessage(received));
    endpoint.start();
    runtime.start();
    observed.push({ runtime, endpoint });
    stops.push(() => {
      endpoint.stop();
      replies.close();
      runtime.stop();
      announcer.stop();
    });
    status('identity', {
      identity: identity.name,
      epoch: runtime.epoch,
      userPubkey: runtime.userPubkey,
      transportPubkey: endpoint.transportPubkey,
      encryptionPubkey: keyring.currentPubkey,
    });
  }
  adminDeps.acceptNostrConnect = async (name, input, actor) => {
    const identity = config.identities.find((i) => i.name === name)!;
    const accepted = await acceptNostrConnectUri({
      uri: input.uri,
      perms: input.perms ?? DEFAULT_TOKEN_PERMS,
      ...(input.ttlSec === undefined ? {} : { grantTtlSec: input.ttlSec }),
      identity: name,
      transportSecretKey: hexToBytes(identity.transportSecretKey),
      bunkerRelays: relays,
      db,
      audit,
      nowSec,
      actor,
      // Our relays include one of the client's (checked), so our pool reaches it.
      publish: async (event) => (await pool.publish(event)).acceptedBy,
    });
    return {
      clientPubkey: accepted.offer.clientPubkey,
      tokenId: accepted.tokenId,
      perms: accepted.perms,
      ...(accepted.offer.requestedPerms === undefined ? {} : { requestedPerms: accepted.offer.requestedPerms }),
      answeredOn: accepted.answeredOn,
    };
  };
  adminDeps.observability = {
    health: () =>
      buildHealthReport({
        identities: observed.map(({ runtime }) => ({ name: runtime.name, userPubkey: runtime.userPubkey, epoch: runtime.epoch, threshold: runtime.threshold, quorumAvailable: runtime.monitor.status().available, nodes: runtime.monitor.details() })),
        relays: pool.health(),
        database: checkDatabase(db),
      }),
    metrics: () => metrics.render(),
  };
  // issue 7 hot pickup: a drill's commit rewrites config.json atomically; SIGHUP forces a re-read.
  const reload = (trigger: string) => {
    const result = reloadSigningConfig(dir, observed.map((o) => o.runtime), logger);
    if (!result.ok) {
      status('reload_failed', { trigger, error: result.error });
      return;
    }
    for (const runtime of observed.map((o) => o.runtime)) for (const pubkey of runtime.nodePubkeys) members.add(pubkey);
    for (const swap of result.swapped) {
      db.transaction(() => audit.append({ actor: 'coordinator', action: 'identity.epoch_swapped', target: swap.identity, reason: `config.json (${trigger})`, before: { epoch: swap.fromEpoch }, after: { epoch: swap.toEpoch } }))();
      status('reloaded', { trigger, ...swap });
    }
  };
  const watcher = new ConfigWatcher({ dir, debounceMs: 200, reload: () => reload('watch'), logger });
  stops.push(() => watcher.close());
  process.on('SIGHUP', () => reload('SIGHUP'));
  status('started', { relays, pid: process.pid });

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    for (const stop of stops) stop();
    replays.flush();
    void Promise.allSettled([transport.close(), pool.close(), admin.close()]).then(() => {
      db.close();
      process.exit(0);
    });
    // Last resort if a socket refuses to close.
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
