import { createHash } from 'node:crypto';
import { appendFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { hexToBytes, type SigningCommitments } from '@frostbunker/shared/crypto';

/** `commit`: the node issued the commitment; `sign`: it computed a partial signature with its nonces. */
export type NonceLedgerPhase = 'commit' | 'sign';

/** The test-mode variable naming the directory of the ledgers (one file per node label). */
export const NONCE_LEDGER_ENV = 'FROSTBUNKER_NONCE_LEDGER_DIR';

/**
 * The node nonce ledger (RELIABILITY.md §3.6, test mode only): one JSON line
 * `{h, session, phase}` per commitment issued and per partial signature computed, where `h` is
 * sha256(D‖E) of the public commitments: nothing secret. Appended, never rewritten, so a restarted
 * node adds to the same file and a checker (test/harness/nonce-ledger.ts) sees reuse across
 * restarts. Not fsynced: a SIGKILL loses nothing the kernel already has.
 */
export class NonceLedger {
  constructor(readonly path: string) {}

  record(commitments: readonly SigningCommitments[], sessionId: string, phase: NonceLedgerPhase): void {
    if (commitments.length === 0) return;
    const lines = commitments.map((c) => JSON.stringify({ h: commitmentHash(c), session: sessionId, phase }));
    appendFileSync(this.path, `${lines.join('\n')}\n`);
  }
}

/** sha256(D‖E) hex over the 33-byte compressed points. */
export function commitmentHash(commitments: SigningCommitments): string {
  return createHash('sha256')
    .update(hexToBytes(commitments.hiding, 33, 'hiding'))
    .update(hexToBytes(commitments.binding, 33, 'binding'))
    .digest('hex');
}

/**
 * The ledger of node `label` when `FROSTBUNKER_NONCE_LEDGER_DIR` is set in test mode (the same rule
 * as failpoints: FROSTBUNKER_TEST_MODE=1 and NODE_ENV=test); `warn` says when it is on, or ignored.
 */
export function openNonceLedger(env: NodeJS.ProcessEnv, label: string, warn: (message: string) => void): NonceLedger | undefined {
  const dir = env[NONCE_LEDGER_ENV];
  if (!dir) return undefined;
  if (env.FROSTBUNKER_TEST_MODE !== '1' || env.NODE_ENV !== 'test') {
    warn(`${NONCE_LEDGER_ENV} ignored: the nonce ledger is written only with FROSTBUNKER_TEST_MODE=1 and NODE_ENV=test`);
    return undefined;
  }
  mkdirSync(dir, { recursive: true });
  const ledger = new NonceLedger(join(dir, `${label}.jsonl`));
  warn(`TEST MODE: nonce ledger written to ${ledger.path}`);
  return ledger;
}
