#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { join, resolve } from 'node:path';
import { computeEventId, hexToBytes } from '@frostbunker/shared/crypto';
import { secretsAccessFromArgs, SECRETS_ARG_OPTIONS } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { createLogger, type LogLevel } from '@frostbunker/shared/logger';
import { initEventSigner, KIND_FROSTBUNKER_NODE } from '@frostbunker/shared/nostr';
import { fromNodeMessageSchema, WINDOWS, type FromNodeMessage, type ToNodeMessage, type XOnlyPubkey } from '@frostbunker/shared/protocol';
import { RelayPool, RelayTransport } from '@frostbunker/shared/transport';
import { AclStore } from './acl-store/acl-store.js';
import { openAclDatabase } from './acl-store/database.js';
import { ReplayStore } from './acl-store/replay-store.js';
import { TokenStore } from './acl-store/token-store.js';
import { AuditLog } from './audit/audit-log.js';
import { loadCoordinatorConfig } from './config.js';
import { AclGate } from './nip46/acl-gate.js';
import { EncryptionKeyAnnouncer } from './encryption/announcer.js';
import { EncryptionKeyring } from './encryption/keyring.js';
import { Nip46Endpoint } from './nip46/endpoint.js';
import { QuorumMonitor } from './signing/quorum-monitor.js';
import { SigningCoordinator } from './signing/signing-coordinator.js';

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
  const pool = new RelayPool({ urls: relays, logger: (level, msg, fields) => logger[level](msg, fields) });
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
  const audit = new AuditLog(db, { nowSec });
  const aclStore = new AclStore(db, { nowSec });
  const replays = new ReplayStore(db, { windowSec: WINDOWS.nip46RequestPastSec + WINDOWS.nip46RequestFutureSec, nowSec });
  const stops: (() => void)[] = [];
  for (const identity of config.identities) {
    const log = logger.child({ identity: identity.name });
    const signer = new SigningCoordinator({ identity: identity.signing, sender: transport, roundTimeoutMs: config.roundTimeoutMs, logger: log });
    const keyring = new EncryptionKeyring(identity.encryptionKeys);
    const announcer = new EncryptionKeyAnnouncer({
      identity: identity.name,
      userPubkey: signer.groupPubkey,
      encryptionPubkey: keyring.currentPubkey,
      sign: (event) => {
        aclStore.logInternalSigning(identity.name, { kind: event.kind, eventId: computeEventId(event) }, 'internal:encryption_key_announcement');
        return signer.sign(event);
      },
      publish: (event) => pool.publish(event),
      statePath: join(dir, 'state.json'),
      logger: log,
      onAnnounced: (event) => status('announced', { identity: identity.name, kind: event.kind, eventId: event.id, encryptionPubkey: keyring.currentPubkey }),
    });
    const monitor = new QuorumMonitor({
      identity: identity.signing,
      sender: transport,
      intervalMs: config.pingIntervalMs,
      logger: log,
      onChange: (quorum) => {
        status('quorum', { identity: identity.name, ...quorum });
        announcer.onQuorum(quorum.available);
      },
    });
    const endpoint = new Nip46Endpoint({
      pool,
      requestDedupe: { firstSighting: (key) => replays.firstSighting(`${identity.name}:${key}`) },
      transportSecretKey: hexToBytes(identity.transportSecretKey),
      logger: log,
      context: {
        userPubkey: signer.groupPubkey,
        relays,
        acl: new AclGate({ identity: identity.name, store: aclStore, tokens: new TokenStore({ db, audit, identity: identity.name, nowSec }) }),
        sign: (event) => signer.sign(event),
        encryption: keyring,
      },
    });
    transport.onMessage((received) => {
      signer.handleMessage(received);
      monitor.handleMessage(received);
    });
    endpoint.start();
    monitor.start();
    stops.push(() => {
      endpoint.stop();
      monitor.stop();
      announcer.stop();
    });
    status('identity', {
      identity: identity.name,
      userPubkey: signer.groupPubkey,
      transportPubkey: endpoint.transportPubkey,
      encryptionPubkey: keyring.currentPubkey,
    });
  }
  status('started', { relays, pid: process.pid });

  const shutdown = (signal: string) => {
    logger.info('shutting down', { signal });
    for (const stop of stops) stop();
    void Promise.allSettled([transport.close(), pool.close()]).then(() => {
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
