import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { SigningCommitments } from '@frostbunker/shared/crypto';

export interface CommitmentUse {
  node: string;
  /** Which process of that node (0 = first start, +1 per restart). */
  generation: number;
  sessionId: string;
  type: string;
}

/**
 * RELIABILITY.md §3.6 node ledger, kept by the harness: sha256(D‖E) of the commitment behind every
 * partial signature a node sends, across restarts. A hash used twice is a reused nonce pair.
 */
export class CommitmentLedger {
  readonly #uses = new Map<string, CommitmentUse[]>();
  #count = 0;

  record(commitments: SigningCommitments, use: CommitmentUse): void {
    const hash = bytesToHex(sha256(new Uint8Array([...hexToBytes(commitments.hiding), ...hexToBytes(commitments.binding)])));
    this.#uses.set(hash, [...(this.#uses.get(hash) ?? []), use]);
    this.#count++;
  }

  /** Partial signatures recorded. */
  get size(): number {
    return this.#count;
  }

  reused(): { hash: string; uses: CommitmentUse[] }[] {
    return [...this.#uses].filter(([, uses]) => uses.length > 1).map(([hash, uses]) => ({ hash, uses }));
  }
}
