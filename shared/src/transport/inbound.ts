import type { z } from 'zod';
import type { DropReason, ReceivedMessage } from './transport.js';
import type { TransportLogger } from './logger.js';

/**
 * Receive-side steps every `Transport` shares, so the memory and relay implementations drop and
 * count exactly the same way.
 */

export const defaultNowSec = (): number => Math.floor(Date.now() / 1000);

const utf8 = new TextEncoder();

/** True if `text` is longer than `maxBytes` in UTF-8, encoding only when the length cannot decide. */
export function exceedsUtf8Bytes(text: string, maxBytes: number): boolean {
  // Every UTF-16 code unit is 1 to 3 UTF-8 bytes (a surrogate pair, 2 units, is 4 bytes).
  if (text.length > maxBytes) return true;
  if (text.length * 3 <= maxBytes) return false;
  return utf8.encode(text).length > maxBytes;
}

/** Counts of dropped inbound messages by reason. */
export class DropCounter {
  readonly #counts: Partial<Record<DropReason, number>> = {};

  count(reason: DropReason): void {
    this.#counts[reason] = (this.#counts[reason] ?? 0) + 1;
  }

  snapshot(): Readonly<Partial<Record<DropReason, number>>> {
    return { ...this.#counts };
  }
}

export type DecodeResult<T> = { ok: true; message: T } | { ok: false; reason: 'bad_json' | 'bad_schema' };

/** JSON.parse in a try, then the schema (STYLE.md 2.5: wire data is `unknown` until parsed). */
export function decodeMessage<T>(json: string, schema: z.ZodType<T>): DecodeResult<T> {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return { ok: false, reason: 'bad_json' };
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? { ok: true, message: parsed.data } : { ok: false, reason: 'bad_schema' };
}

/** True if `createdAtSec` lies within ±`windowSec` of `nowSec` (RELIABILITY.md decision 4). */
export function isWithinWindow(createdAtSec: number, nowSec: number, windowSec: number): boolean {
  return Math.abs(createdAtSec - nowSec) <= windowSec;
}

/** The registered `onMessage` handlers; one throwing handler never reaches the others or the caller. */
export class HandlerSet<T> {
  readonly #handlers = new Set<(received: ReceivedMessage<T>) => void>();
  readonly #logger: TransportLogger;

  constructor(logger: TransportLogger) {
    this.#logger = logger;
  }

  add(handler: (received: ReceivedMessage<T>) => void): () => void {
    // Wrap so the same function registered twice gets two independent registrations.
    const registration = (received: ReceivedMessage<T>): void => handler(received);
    this.#handlers.add(registration);
    return () => {
      this.#handlers.delete(registration);
    };
  }

  emit(received: ReceivedMessage<T>): void {
    for (const handler of [...this.#handlers]) {
      try {
        handler(received);
      } catch (error) {
        this.#logger('error', 'transport message handler threw', {
          senderPubkey: received.senderPubkey,
          error: error instanceof Error ? error.message : String(error),
        });
      }
    }
  }

  clear(): void {
    this.#handlers.clear();
  }
}
