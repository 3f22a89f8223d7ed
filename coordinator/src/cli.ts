#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getPublicKey } from 'nostr-tools/pure';
import { isSealedFile } from '@frostbunker/shared/crypto';
import { readJsonFile, readSecretsFile, secretsAccessFromArgs, SECRETS_ARG_OPTIONS, writeSecretsFile } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { z } from 'zod';
import { openAclDatabase } from './acl-store/database.js';
import { TokenStore } from './acl-store/token-store.js';
import { AuditLog } from './audit/audit-log.js';
import { ACL_GROUPS, ACL_USAGE, runAclCommand } from './cli-acl.js';
import { ADMIN_TOKEN_USAGE, runAdminTokenCommand } from './cli-admin.js';
import { BACKUP_USAGE, runBackupCommand } from './cli-backup.js';
import { HEALTH_USAGE, runHealthCommand } from './cli-health.js';
import { acceptNostrConnect } from './cli-connect.js';
import { DRILL_USAGE, runDrillCommand } from './cli-drill.js';
import { coordinatorConfigSchema, coordinatorSecretsSchema } from './config.js';
import { createConnectionToken, DEFAULT_TOKEN_PERMS } from './connection-token.js';

/** `10m`, `2h`, `7d`, `90s` or plain seconds. */
function parseDurationSec(text: string): number {
  const match = /^(\d+)([smhd]?)$/.exec(text.trim());
  if (!match) throw new ConfigError('--ttl', `expected a duration like 10m, 2h or 7d, got "${text}"`);
  const unit = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 }[match[2] as '' | 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit;
}

const USAGE = `usage: frostbunker <command> --data <coordinator-dir> [--passphrase-file f | --insecure-plaintext]

  token create [--perms p] [--ttl 10m] [--label l]  print a bunker:// URL with a fresh one-time
                                            token whose grants are exactly the perms (NIP-46 grammar,
                                            e.g. sign_event:1,nip44_encrypt; default: ${DEFAULT_TOKEN_PERMS})
  connect '<nostrconnect://…>' [--perms p] [--ttl 30d]  accept a client's nostrconnect URI: grant it
                                            the perms (not those it asks for; default as above) and
                                            answer it on its relays (one must be a bunker relay)
${ACL_USAGE}
${ADMIN_TOKEN_USAGE}
${DRILL_USAGE}
${HEALTH_USAGE}
${BACKUP_USAGE}
  encryption-key show [--identity name]     the current NIP-4e encryption pubkey and the kept old ones
  encryption-key rotate [--identity name]   make a new encryption key; old keys stay to decrypt old messages

After a rotation, enrol the new pubkey on every share node (pnpm share-node enrol-encryption-key
<pubkey> --data <node-dir>), restart the nodes and the coordinator: it announces the new key in a
kind 10044 once the nodes co-sign it. From the repository root: pnpm frostbunker …`;

async function main(): Promise<number> {
  const { values, positionals } = parseArgs({
    args: process.argv.slice(2).filter((a) => a !== '--'),
    options: {
      data: { type: 'string' },
      identity: { type: 'string', default: 'default' },
      perms: { type: 'string' },
      ttl: { type: 'string' },
      label: { type: 'string' },
      reason: { type: 'string', default: 'cli' },
      for: { type: 'string' },
      cap: { type: 'string' },
      n: { type: 'string', default: '20' },
      'node-log': { type: 'string', multiple: true },
      'dry-run': { type: 'boolean', default: false },
      'step-timeout': { type: 'string', default: '20s' },
      // drill reshare / repair (cli-drill.ts)
      threshold: { type: 'string' },
      nodes: { type: 'string' },
      index: { type: 'string' },
      'node-pubkey': { type: 'string' },
      // backup / restore (cli-backup.ts)
      out: { type: 'string' },
      from: { type: 'string' },
      ...SECRETS_ARG_OPTIONS,
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  const [group, command] = positionals;
  if (group === 'health' && !values.help) {
    if (!values.data) throw new ConfigError('--data', 'required: the coordinator data directory');
    return runHealthCommand(resolve(process.env.INIT_CWD ?? process.cwd(), values.data), { json: values.json }, (line) => console.log(line));
  }
  if ((group === 'backup' || group === 'restore') && !values.help) {
    if (!values.data) throw new ConfigError('--data', 'required: the coordinator data directory');
    const cwd = process.env.INIT_CWD ?? process.cwd();
    return runBackupCommand(group, {
      dir: resolve(cwd, values.data),
      cwd,
      ...(values.out === undefined ? {} : { out: values.out }),
      ...(values.from === undefined ? {} : { from: values.from }),
    }, (line) => console.log(line));
  }
  if (group === 'admin-token' && !values.help) {
    if (!values.data) throw new ConfigError('--data', 'required: the coordinator data directory');
    const dir = resolve(process.env.INIT_CWD ?? process.cwd(), values.data);
    return runAdminTokenCommand(positionals, { dir, reason: values.reason, ...(values.label === undefined ? {} : { label: values.label }) }, () => Math.floor(Date.now() / 1000));
  }
  if (group === 'drill' && !values.help) {
    if (!values.data) throw new ConfigError('--data', 'required: the coordinator data directory');
    return runDrillCommand(positionals, {
      dir: resolve(process.env.INIT_CWD ?? process.cwd(), values.data),
      identity: values.identity,
      dryRun: values['dry-run'],
      stepTimeoutMs: parseDurationSec(values['step-timeout']) * 1000,
      ...(values.threshold === undefined ? {} : { threshold: values.threshold }),
      ...(values.nodes === undefined ? {} : { nodes: values.nodes }),
      ...(values.index === undefined ? {} : { index: values.index }),
      ...(values['node-pubkey'] === undefined ? {} : { nodePubkey: values['node-pubkey'] }),
      access: secretsAccessFromArgs(values, process, (message) => console.error(`warning: ${message}`)),
    });
  }
  if (group !== undefined && ACL_GROUPS.has(group) && !values.help) {
    if (!values.data) throw new ConfigError('--data', 'required: the coordinator data directory');
    return runAclCommand(positionals, {
      dir: resolve(process.env.INIT_CWD ?? process.cwd(), values.data),
      identity: values.identity,
      reason: values.reason,
      n: Number(values.n),
      nodeLogs: values['node-log'] ?? [],
      ...(values.for === undefined ? {} : { forSec: parseDurationSec(values.for) }),
      ...(values.ttl === undefined ? {} : { ttlSec: parseDurationSec(values.ttl) }),
      ...(values.cap === undefined ? {} : { cap: values.cap }),
    }, () => Math.floor(Date.now() / 1000));
  }
  const known =
    (group === 'encryption-key' && (command === 'show' || command === 'rotate')) ||
    (group === 'token' && command === 'create') ||
    (group === 'connect' && command !== undefined);
  if (values.help || !known) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (!values.data) throw new ConfigError('--data', 'required: the coordinator data directory');
  const path = join(resolve(process.env.INIT_CWD ?? process.cwd(), values.data), 'secrets.json');
  const access = secretsAccessFromArgs(values, process, (message) => console.error(`warning: ${message}`));
  const secrets = await readSecretsFile(path, coordinatorSecretsSchema, access);
  const identity = secrets.identities.find((i) => i.name === values.identity);
  if (!identity) throw new ConfigError('--identity', `no identity "${values.identity}" in ${path}`);

  if (group === 'connect') {
    const dir = resolve(process.env.INIT_CWD ?? process.cwd(), values.data);
    const { relays } = readJsonFile(join(dir, 'config.json'), coordinatorConfigSchema);
    const db = openAclDatabase(join(dir, 'acl.db'));
    try {
      return await acceptNostrConnect({
        uri: command!,
        perms: values.perms ?? DEFAULT_TOKEN_PERMS,
        ...(values.ttl === undefined ? {} : { grantTtlSec: parseDurationSec(values.ttl) }),
        identity: identity.name,
        transportSecretKey: identity.transportSecretKey,
        bunkerRelays: relays,
        db,
        nowSec: () => Math.floor(Date.now() / 1000),
        print: (line) => console.log(line),
      });
    } finally {
      db.close();
    }
  }

  if (group === 'token') {
    const dir = resolve(process.env.INIT_CWD ?? process.cwd(), values.data);
    const { relays } = readJsonFile(join(dir, 'config.json'), coordinatorConfigSchema);
    const db = openAclDatabase(join(dir, 'acl.db'));
    try {
      const nowSec = () => Math.floor(Date.now() / 1000);
      const tokens = new TokenStore({ db, audit: new AuditLog(db, { nowSec }), identity: identity.name, nowSec });
      const token = createConnectionToken(tokens, {
        transportPubkey: getPublicKey(Buffer.from(identity.transportSecretKey, 'hex')),
        relays,
        ...(values.perms === undefined ? {} : { perms: values.perms }),
        ttlSec: parseDurationSec(values.ttl ?? '10m'),
        label: values.label ?? 'cli',
        actor: `cli:${userInfo().username}`,
      });
      console.error(`token ${token.tokenId}: ${token.perms}; redeemable once until ${new Date(token.expiresAtSec * 1000).toISOString()}`);
      console.log(token.bunkerUrl);
    } finally {
      db.close();
    }
    return 0;
  }
  const pubkeys = () => identity.encryptionKeys.map((hex) => getPublicKey(Buffer.from(hex, 'hex')));

  if (command === 'rotate') {
    identity.encryptionKeys.push(randomBytes(32).toString('hex'));
    // Keep the file's protection: a sealed file is resealed under the same passphrase.
    const sealed = isSealedFile(readJsonFile(path, z.unknown()));
    await writeSecretsFile(path, secrets, sealed ? { passphrase: await access.passphrase!() } : {});
  }
  const [current, ...older] = pubkeys().reverse();
  console.log(JSON.stringify({ identity: identity.name, current, older }, null, 2));
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
