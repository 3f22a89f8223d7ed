import type { BroadcastPlugin, Event } from '@nostr-relay/common';
import { matchFilters, type Filter } from 'nostr-tools/filter';
import type { WebSocket } from 'ws';

/** One client's subscriptions as the relay mirrors them: id → filters (NIP-01 `REQ`). */
export type MirroredSubscriptions = ReadonlyMap<string, readonly Filter[]>;

/**
 * Live delivery of each new event to the subscriptions it matches, in place of `@nostr-relay/core`
 * 0.0.40's own. Two reasons. The core ignores `#tag` filters on live events
 * (`EventUtils.isMatchingFilter` checks ids/authors/kinds/since/until only), so every `#p`
 * subscriber of a kind got every event of it; here the full NIP-01 match applies. And the core
 * serialised the event once per matching subscription, which the server then parsed again to apply
 * the tag filters; here it is serialised once for all (issue 9: a threshold signature is six relay
 * events, and the benchmark's relay has nine subscribers of kind 24133).
 *
 * Registered as the last broadcast plugin: it never calls `next`, so the core's fan-out never runs.
 */
export class FanOut implements BroadcastPlugin {
  readonly #clients = new Map<WebSocket, MirroredSubscriptions>();

  /** `socket`'s subscriptions from now on (the map is read live, so later REQs and CLOSEs count). */
  attach(socket: WebSocket, subscriptions: MirroredSubscriptions): void {
    this.#clients.set(socket, subscriptions);
  }

  detach(socket: WebSocket): void {
    this.#clients.delete(socket);
  }

  async broadcast(event: Event): Promise<void> {
    let eventJson: string | undefined;
    for (const [socket, subscriptions] of this.#clients) {
      if (socket.readyState !== socket.OPEN) continue;
      for (const [subscriptionId, filters] of subscriptions) {
        if (!matchFilters(filters as Filter[], event)) continue;
        eventJson ??= JSON.stringify(event);
        // Byte for byte what JSON.stringify(['EVENT', subscriptionId, event]) gives.
        socket.send(`["EVENT",${JSON.stringify(subscriptionId)},${eventJson}]`);
      }
    }
  }
}
