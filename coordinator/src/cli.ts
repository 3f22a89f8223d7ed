#!/usr/bin/env node
import { randomBytes } from 'node:crypto';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { getPublicKey } from 'nostr-tools/pure';
import { isSealedFile } from '@frostbunker/shared/crypto';
import { readJsonFile, readSecretsFile, secretsAccessFromArgs, SECRETS_ARG_OPTIONS, writeSecretsFile } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { z } from 'zod';
import { coordinatorSecretsSchema } from './config.js';

const USAGE = `usage: frostbunker <command> --data <coordinator-dir> [--passphrase-file f | --insecure-plaintext]

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
      ...SECRETS_ARG_OPTIONS,
      help: { type: 'boolean', short: 'h' },
    },
    allowPositionals: true,
  });
  const [group, command] = positionals;
  if (values.help || group !== 'encryption-key' || (command !== 'show' && command !== 'rotate')) {
    console.log(USAGE);
    return values.help ? 0 : 2;
  }
  if (!values.data) throw new ConfigError('--data', 'required: the coordinator data directory');
  const path = join(resolve(process.env.INIT_CWD ?? process.cwd(), values.data), 'secrets.json');
  const access = secretsAccessFromArgs(values, process, (message) => console.error(`warning: ${message}`));
  const secrets = await readSecretsFile(path, coordinatorSecretsSchema, access);
  const identity = secrets.identities.find((i) => i.name === values.identity);
  if (!identity) throw new ConfigError('--identity', `no identity "${values.identity}" in ${path}`);
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
