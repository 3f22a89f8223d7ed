// The floors: what one signature costs in this process with no relay, no process boundary and no
// NIP-46 around it. The FROST floor calls the same wrapper the coordinator and share nodes call
// (shared/dist/crypto), so it includes their checks: signShare verifies its own share and
// aggregateSignature verifies the final signature with an independent BIP-340 verifier.
import { closeSync, fsyncSync, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import {
  aggregateSignature,
  commit,
  createSigningPackage,
  dealerKeygen,
  finalizeEvent,
  generateSecretKey,
  getPublicKey,
  initEventSigner,
  nip44,
  signShare,
  verifyEvent,
  wasmFinalizeEvent,
  wasmVerifyEvent,
} from './deps.mjs';
import { median } from './stats.mjs';

const WARMUP = 10;

function time(fn) {
  const started = performance.now();
  const value = fn();
  return [performance.now() - started, value];
}

/**
 * One k-of-n FROST signature in process, `iterations` times after a warm-up: commit × k, the
 * signing package, signShare × k, aggregate (with its verification). Medians in ms.
 */
export function frostFloor({ threshold, maxSigners, iterations }) {
  const { group, shares } = dealerKeygen({ threshold, maxSigners });
  const signers = shares.slice(0, threshold);
  const samples = { total: [], commit: [], signingPackage: [], signShare: [], aggregate: [] };
  for (let i = 0; i < WARMUP + iterations; i++) {
    const message = randomBytes(32);
    const [commitMs, rounds] = time(() => signers.map((share) => commit(share)));
    const [packageMs, pkg] = time(() => createSigningPackage(message, rounds.map((r) => r.commitments)));
    const [signMs, partials] = time(() =>
      Object.fromEntries(signers.map((share, j) => [share.identifier, signShare(share, group, rounds[j].nonces, pkg)])),
    );
    const [aggregateMs] = time(() => aggregateSignature(group, pkg, partials));
    if (i < WARMUP) continue;
    samples.commit.push(commitMs / threshold);
    samples.signingPackage.push(packageMs);
    samples.signShare.push(signMs / threshold);
    samples.aggregate.push(aggregateMs);
    samples.total.push(commitMs + packageMs + signMs + aggregateMs);
  }
  return {
    what: `FROST ${threshold}-of-${maxSigners}, one signature in process: commit x${threshold} + signing package + signShare x${threshold} + aggregate (median ms)`,
    iterations,
    totalMs: median(samples.total),
    totalMinMs: Math.min(...samples.total),
    commitEachMs: median(samples.commit),
    signingPackageMs: median(samples.signingPackage),
    signShareEachMs: median(samples.signShare),
    aggregateMs: median(samples.aggregate),
  };
}

/**
 * The single-key and NIP-46 building blocks, for scale (medians in ms): event signing and
 * verification both with nostr-tools' pure JS and with our WebAssembly event signer.
 */
export async function nostrFloor({ iterations }) {
  await initEventSigner();
  const secretKey = generateSecretKey();
  const peerPubkey = getPublicKey(generateSecretKey());
  const template = () => ({ kind: 1, created_at: Math.floor(Date.now() / 1000), tags: [], content: `floor ${Math.random()}` });
  const conversationKey = nip44.getConversationKey(secretKey, peerPubkey);
  const samples = { finalize: [], pubkey: [], verify: [], wasmFinalize: [], wasmVerify: [], nip44: [], ecdh: [] };
  for (let i = 0; i < WARMUP + iterations; i++) {
    const [finalizeMs, signed] = time(() => finalizeEvent(template(), secretKey));
    const [pubkeyMs] = time(() => getPublicKey(secretKey));
    const [verifyMs] = time(() => verifyEvent(JSON.parse(JSON.stringify(signed)))); // a fresh object: nostr-tools caches the verdict on it
    // Each signature verified once: our verifier remembers signatures it has already checked.
    const [wasmFinalizeMs, wasmSigned] = time(() => wasmFinalizeEvent(template(), secretKey));
    const [wasmVerifyMs, wasmValid] = time(() => wasmVerifyEvent(JSON.parse(JSON.stringify(wasmSigned))));
    if (!wasmValid) throw new Error('floor: the WebAssembly event signer did not verify its own event');
    const [nip44Ms] = time(() => nip44.decrypt(nip44.encrypt(JSON.stringify(signed), conversationKey), conversationKey));
    const [ecdhMs] = time(() => nip44.getConversationKey(secretKey, peerPubkey));
    if (i < WARMUP) continue;
    samples.finalize.push(finalizeMs);
    samples.pubkey.push(pubkeyMs);
    samples.verify.push(verifyMs);
    samples.wasmFinalize.push(wasmFinalizeMs);
    samples.wasmVerify.push(wasmVerifyMs);
    samples.nip44.push(nip44Ms);
    samples.ecdh.push(ecdhMs);
  }
  return {
    iterations,
    finalizeEventMs: median(samples.finalize),
    getPublicKeyMs: median(samples.pubkey),
    verifyEventMs: median(samples.verify),
    wasmFinalizeEventMs: median(samples.wasmFinalize),
    wasmVerifyEventMs: median(samples.wasmVerify),
    nip44RoundTripCachedKeyMs: median(samples.nip44),
    conversationKeyMs: median(samples.ecdh),
  };
}

/**
 * open + append one ~300-byte line + fsync + close in `dir`, as the share-node log does for each
 * decision (one per co-signed signature: the 'committed' and 'signed' lines share it). Median ms.
 */
export function fsyncFloor({ dir, iterations }) {
  const scratch = mkdtempSync(join(dir, 'fsync-'));
  const path = join(scratch, 'append.log');
  const line = `${JSON.stringify({ pad: 'x'.repeat(280) })}\n`;
  const samples = [];
  try {
    for (let i = 0; i < WARMUP + iterations; i++) {
      const [ms] = time(() => {
        const fd = openSync(path, 'a', 0o600);
        try {
          writeSync(fd, line);
          fsyncSync(fd);
        } finally {
          closeSync(fd);
        }
      });
      if (i >= WARMUP) samples.push(ms);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  return { iterations, appendFsyncMs: median(samples) };
}
