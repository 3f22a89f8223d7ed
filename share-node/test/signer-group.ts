import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dealerKeygen, groupXOnlyKey, type SigningCommitments } from '@frostbunker/shared/crypto';
import { silentLogger } from '@frostbunker/shared/logger';
import { computeGroupId, type FromNodeMessage, type SessionId } from '@frostbunker/shared/protocol';
import { NodeLog } from '../src/node-log.js';
import { NodeState } from '../src/node-state.js';
import { ShareSigner, type SignerTestHooks } from '../src/signer/share-signer.js';
import { DEFAULT_VETO_POLICY, type VetoPolicy } from '../src/veto/policy-schema.js';

/**
 * The three real share signers of a fresh 2-of-3 group, each with its own log and state in a temp
 * directory, spoken to directly as a (possibly malicious) coordinator. The default policy with its
 * rate limits out of the way; `policy(i)` adds to node i's (0-based).
 */
export function signerGroup(options: { policy?: (i: number) => Partial<VetoPolicy>; testHooks?: (i: number) => SignerTestHooks } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'frostbunker-signer-group-'));
  const nowSec = () => Math.floor(Date.now() / 1000);
  const { group, shares } = dealerKeygen({ threshold: 2, maxSigners: 3 });
  const members = shares.map((s, i) => ({ identifier: s.identifier, nodePubkey: String(i + 1).repeat(64), label: `node-${i + 1}` }));
  const groupId = computeGroupId({ ...group, members });
  const userPubkey = groupXOnlyKey(group);
  /** Replies a signer sends later (after its operator decided). */
  const later: FromNodeMessage[] = [];
  /** Node i's process: a restart is a new one on the same share, log and state. */
  const makeSigner = (i: number) =>
    new ShareSigner({
      groupId,
      epoch: 0,
      group,
      groupPubkey: userPubkey,
      share: shares[i]!,
      logger: silentLogger,
      nowSec,
      monotonicMs: () => performance.now(),
      policy: () => ({
        policy: { ...DEFAULT_VETO_POLICY, rateLimits: { perMinute: 1e6, perHour: 1e6, perDay: 1e6 }, ...options.policy?.(i) },
        rules: [],
      }),
      log: NodeLog.open(join(dir, `node-${i + 1}`, 'node-log.jsonl'), { nowSec }),
      state: new NodeState(join(dir, `node-${i + 1}`, 'state.json')),
      sendLater: (message) => void later.push(message),
      ...(options.testHooks ? { testHooks: options.testHooks(i) } : {}),
    });
  const signers = [makeSigner(0), makeSigner(1), makeSigner(2)];
  const header = <V extends 1 | 2 = 2>(v: V = 2 as V, sessionId: string = randomBytes(16).toString('hex')) => ({ v, groupId, epoch: 0, sessionId: sessionId as SessionId });
  const event = (content: string, kind = 1) => ({ pubkey: userPubkey as string, created_at: nowSec(), kind, tags: [] as string[][], content });

  /** Asks node i for `count` commitments, as the coordinator's refill does. */
  function pool(i: number, count: number): SigningCommitments[] {
    const reply = signers[i]!.handle({ ...header(2), type: 'nonce_pool_request', count });
    if (reply.type !== 'nonce_pool') throw new Error(`no pool: ${JSON.stringify(reply)}`);
    return reply.commitments;
  }

  return { dir, group, shares, members, groupId, userPubkey, signers, makeSigner, header, event, pool, later };
}
