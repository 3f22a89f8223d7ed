import { EventRepository, EventType, EventUtils, type Event, type EventRepositoryUpsertResult, type Filter } from '@nostr-relay/common';
import { matchFilter, type Filter as NostrToolsFilter } from 'nostr-tools/filter';
import type { EphemeralRetention } from './ephemeral-retention.js';

const DEFAULT_MAX_EVENTS = 10_000;

/**
 * Bounded in-memory `EventRepository` for the test relay. NIP-01 storage rules: regular events by
 * id, replaceable ones by (kind, pubkey), addressable ones by (kind, pubkey, d); ephemeral events
 * never reach `upsert` (`@nostr-relay/core` broadcasts them without calling it), but `find` also
 * serves those the `ephemeral` retention still holds. The oldest events are evicted beyond
 * `maxEvents`.
 */
export class MemoryEventRepository extends EventRepository {
  readonly #events = new Map<string, Event>();
  /** Replaceable address → id of the event currently stored for it. */
  readonly #latestByAddress = new Map<string, string>();
  readonly #maxEvents: number;
  readonly #ephemeral: EphemeralRetention | undefined;

  constructor(maxEvents = DEFAULT_MAX_EVENTS, ephemeral?: EphemeralRetention) {
    super();
    this.#maxEvents = maxEvents;
    this.#ephemeral = ephemeral;
  }

  get size(): number {
    return this.#events.size;
  }

  isSearchSupported(): boolean {
    return false;
  }

  upsert(event: Event): EventRepositoryUpsertResult {
    if (this.#events.has(event.id)) return { isDuplicate: true };
    const type = EventUtils.getType(event.kind);
    if (type === EventType.EPHEMERAL) return { isDuplicate: false };
    if (type === EventType.REPLACEABLE || type === EventType.PARAMETERIZED_REPLACEABLE) {
      const address = `${event.kind}:${event.pubkey}:${EventUtils.extractDTagValue(event) ?? ''}`;
      const currentId = this.#latestByAddress.get(address);
      const current = currentId === undefined ? undefined : this.#events.get(currentId);
      // NIP-01: keep the newest; on equal created_at keep the lowest id.
      if (current !== undefined && (current.created_at > event.created_at || (current.created_at === event.created_at && current.id < event.id))) {
        return { isDuplicate: true };
      }
      if (currentId !== undefined) this.#events.delete(currentId);
      this.#latestByAddress.set(address, event.id);
    }
    this.#events.set(event.id, event);
    this.#evictOldest();
    return { isDuplicate: false };
  }

  find(filter: Filter): Event[] {
    const matches: Event[] = [];
    const nostrToolsFilter = toNostrToolsFilter(filter);
    for (const event of this.#events.values()) {
      if (matchFilter(nostrToolsFilter, event)) matches.push(event);
    }
    if (this.#ephemeral !== undefined) matches.push(...this.#ephemeral.matching(nostrToolsFilter));
    matches.sort((a, b) => b.created_at - a.created_at || a.id.localeCompare(b.id));
    return filter.limit === undefined ? matches : matches.slice(0, filter.limit);
  }

  /** NIP-09: remove the referenced events that the deletion's author published. */
  override async deleteByDeletionRequest(event: Event): Promise<void> {
    for (const [name, value] of event.tags) {
      if (name !== 'e' || value === undefined) continue;
      const target = this.#events.get(value);
      if (target !== undefined && target.pubkey === event.pubkey) this.#events.delete(value);
    }
  }

  async destroy(): Promise<void> {
    this.#events.clear();
    this.#latestByAddress.clear();
  }

  #evictOldest(): void {
    while (this.#events.size > this.#maxEvents) {
      const oldest = this.#events.keys().next();
      if (oldest.done === true) return;
      this.#events.delete(oldest.value);
    }
    // Drop addresses whose event was evicted, so the index stays bounded too.
    if (this.#latestByAddress.size > this.#maxEvents) {
      for (const [address, id] of this.#latestByAddress) {
        if (!this.#events.has(id)) this.#latestByAddress.delete(address);
      }
    }
  }
}

/** @nostr-relay's `Filter` is an interface listing each `#x` key; nostr-tools' has an index signature. */
export function toNostrToolsFilter(filter: Filter): NostrToolsFilter {
  return { ...filter };
}
