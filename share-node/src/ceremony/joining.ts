import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { getPublicKey } from 'nostr-tools/pure';
import { z } from 'zod';
import { bytesToHex } from '@frostbunker/shared/crypto';
import { readJsonFile, readSecretsFile, writeJsonFileAtomic, writeSecretsFile, type SecretsAccess } from '@frostbunker/shared/config';
import { ConfigError } from '@frostbunker/shared/errors';
import { hexOfBytes, relayUrlSchema, secretStorageSchema, xOnlyPubkeySchema, type XOnlyPubkey } from '@frostbunker/shared/protocol';

/** `<data>/joining.json`: a node that has an identity key and a coordinator but no share yet (issue 7 reshare/repair). */
export const JOINING_FILE = 'joining.json';
/** `<data>/node-key.json` (0600, sealed like secrets.json): the joining node's identity key. */
export const NODE_KEY_FILE = 'node-key.json';

export const joiningConfigSchema = z.strictObject({
  v: z.literal(1),
  label: z.string().regex(/^[a-z0-9-]{1,32}$/),
  relays: z.array(relayUrlSchema).min(1),
  coordinatorPubkey: xOnlyPubkeySchema,
  encryptionPubkeys: z.array(xOnlyPubkeySchema).max(64).default([]),
});
export type JoiningConfig = z.infer<typeof joiningConfigSchema>;

export const nodeKeySchema = z.strictObject({ v: z.literal(1), storage: secretStorageSchema, nodeSecretKey: hexOfBytes(32) });

/** A node waiting to receive its first share from a reshare or repair drill. */
export interface JoiningNode extends JoiningConfig {
  nodeSecretKey: string;
  nodePubkey: XOnlyPubkey;
}

export function isJoining(dir: string): boolean {
  return existsSync(join(dir, JOINING_FILE)) && !existsSync(join(dir, 'config.json'));
}

export async function loadJoiningNode(dir: string, access: SecretsAccess): Promise<JoiningNode> {
  const config = readJsonFile(join(dir, JOINING_FILE), joiningConfigSchema);
  const key = await readSecretsFile(join(dir, NODE_KEY_FILE), nodeKeySchema, access);
  return { ...config, nodeSecretKey: key.nodeSecretKey, nodePubkey: getPublicKey(Buffer.from(key.nodeSecretKey, 'hex')) as XOnlyPubkey };
}

/**
 * `share-node init`: a new host's identity key and its enrolled coordinator, nothing else. The
 * operator gives the printed node pubkey to `frostbunker drill reshare|repair`, which deals this
 * node its share; the node then writes its own config.json and secrets.json at the commit.
 */
export async function initJoiningNode(
  dir: string,
  options: JoiningConfig & { passphrase?: string },
): Promise<XOnlyPubkey> {
  if (existsSync(join(dir, 'config.json')) || existsSync(join(dir, JOINING_FILE))) {
    throw new ConfigError(dir, 'already holds a share node (config.json or joining.json)');
  }
  const secret = randomBytes(32);
  try {
    await writeSecretsFile(join(dir, NODE_KEY_FILE), { v: 1, nodeSecretKey: bytesToHex(secret) }, options.passphrase === undefined ? {} : { passphrase: options.passphrase });
    const { passphrase: _passphrase, ...config } = options;
    writeJsonFileAtomic(join(dir, JOINING_FILE), joiningConfigSchema.parse(config));
    return getPublicKey(secret) as XOnlyPubkey;
  } finally {
    secret.fill(0);
  }
}
