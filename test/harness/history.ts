import { appendFileSync } from 'node:fs';
import { schnorr } from '@noble/curves/secp256k1.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { verifyEvent, type EventTemplate, type VerifiedEvent } from 'nostr-tools/pure';

/** One history line (RELIABILITY.md §3.5, Jepsen-style). `t` is monotonic ms since the recorder began. */
export interface HistoryEntry {
  client: string;
  reqId: string;
  f: string;
  type: 'invoke' | 'ok' | 'fail' | 'info';
  t: number;
  value?: unknown;
}

export interface HistoryCheck {
  ok: boolean;
  invoked: number;
  oks: number;
  fails: number;
  infos: number;
  /** Each broken rule, in words. */
  violations: string[];
  /** Reply latency of every ok, sorted (ms). */
  okLatenciesMs: number[];
}

/**
 * Records client operations as JSONL `{client, reqId, f, type, t, value}` (to `file` when given) and
 * checks them: (a) every invoke ends in ok or fail within `deadlineMs` (`info` — the client's
 * publish failed on every relay, so the bunker never saw it — only when `allowInfo`); (b) every ok
 * signature verifies under nostr-tools and noble, with `pubkey` the group key and `kind`,
 * `created_at`, `tags` and `content` byte-identical to the template; (c) at most one final answer
 * per (client, reqId).
 */
export class History {
  readonly entries: HistoryEntry[] = [];
  readonly #startedMs = performance.now();
  #serial = 0;

  constructor(private readonly file?: string) {}

  #write(entry: HistoryEntry): void {
    this.entries.push(entry);
    if (this.file) appendFileSync(this.file, `${JSON.stringify(entry)}\n`);
  }

  /** Records the invoke, runs `operation`, records ok (with its value) or fail (with the message). */
  async run<T>(client: string, f: string, template: unknown, operation: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: string }> {
    const reqId = `${client}-${++this.#serial}`;
    this.#write({ client, reqId, f, type: 'invoke', t: performance.now() - this.#startedMs, value: template });
    try {
      const value = await operation();
      this.#write({ client, reqId, f, type: 'ok', t: performance.now() - this.#startedMs, value });
      return { ok: true, value };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      this.#write({ client, reqId, f, type: isPublishFailure(message) ? 'info' : 'fail', t: performance.now() - this.#startedMs, value: message });
      return { ok: false, error: message };
    }
  }

  /** Records a final answer by hand (a checker self-test plants a second one). */
  record(entry: Omit<HistoryEntry, 't'>): void {
    this.#write({ ...entry, t: performance.now() - this.#startedMs });
  }

  check(options: { deadlineMs: number; groupPubkey: string; allowInfo?: boolean }): HistoryCheck {
    const violations: string[] = [];
    const invokes = new Map<string, HistoryEntry>();
    const finals = new Map<string, HistoryEntry[]>();
    for (const entry of this.entries) {
      const key = `${entry.client}/${entry.reqId}`;
      if (entry.type === 'invoke') invokes.set(key, entry);
      else finals.set(key, [...(finals.get(key) ?? []), entry]);
    }
    const okLatenciesMs: number[] = [];
    let oks = 0;
    let fails = 0;
    let infos = 0;
    for (const [key, invoke] of invokes) {
      const answers = finals.get(key) ?? [];
      // (c) at most one final answer.
      if (answers.length > 1) violations.push(`${key}: ${answers.length} final answers`);
      const answer = answers[0];
      // (a) an answer within the deadline.
      if (answer === undefined) {
        violations.push(`${key}: no answer`);
        continue;
      }
      if (answer.t - invoke.t > options.deadlineMs) violations.push(`${key}: answered after ${(answer.t - invoke.t).toFixed(0)} ms (deadline ${options.deadlineMs} ms)`);
      if (answer.type === 'info') {
        infos++;
        if (!options.allowInfo) violations.push(`${key}: publish failed (${String(answer.value)})`);
        continue;
      }
      if (answer.type === 'fail') {
        fails++;
        if (/no reply within/.test(String(answer.value))) violations.push(`${key}: silent (${String(answer.value)})`);
        continue;
      }
      oks++;
      okLatenciesMs.push(answer.t - invoke.t);
      // (b) the signature and the fields.
      if (invoke.f === 'sign_event') {
        const problem = checkSignedEvent(answer.value, invoke.value as EventTemplate, options.groupPubkey);
        if (problem) violations.push(`${key}: ${problem}`);
      }
    }
    for (const key of finals.keys()) if (!invokes.has(key)) violations.push(`${key}: answer without an invoke`);
    okLatenciesMs.sort((a, b) => a - b);
    return { ok: violations.length === 0, invoked: invokes.size, oks, fails, infos, violations, okLatenciesMs };
  }
}

/** Undefined when `value` is a valid signature of `template` under `groupPubkey`; otherwise why not. */
export function checkSignedEvent(value: unknown, template: EventTemplate, groupPubkey: string): string | undefined {
  const event = value as VerifiedEvent;
  if (typeof event !== 'object' || event === null || typeof event.sig !== 'string') return 'ok without an event';
  if (event.pubkey !== groupPubkey) return `pubkey ${event.pubkey} is not the group key`;
  if (!verifyEvent({ ...event })) return 'nostr-tools rejects the signature';
  if (!schnorr.verify(hexToBytes(event.sig), hexToBytes(event.id), hexToBytes(event.pubkey))) return 'noble rejects the signature';
  if (event.kind !== template.kind || event.created_at !== template.created_at) return 'kind or created_at changed';
  if (JSON.stringify(event.tags) !== JSON.stringify(template.tags) || event.content !== template.content) return 'tags or content changed';
  return undefined;
}

/** nostr-tools' errors when no relay took the request (the bunker never saw it). */
function isPublishFailure(message: string): boolean {
  return /publish|connection|relay|All promises were rejected|websocket|closed/i.test(message) && !/quorum|denied|refused|unknown method/i.test(message);
}

/** p50/p95/max of sorted latencies, for printing. */
export function percentiles(sortedMs: readonly number[]): string {
  if (sortedMs.length === 0) return 'n/a';
  const at = (q: number) => sortedMs[Math.min(sortedMs.length - 1, Math.floor(q * sortedMs.length))]!.toFixed(0);
  return `p50 ${at(0.5)} ms, p95 ${at(0.95)} ms, max ${sortedMs.at(-1)!.toFixed(0)} ms`;
}
