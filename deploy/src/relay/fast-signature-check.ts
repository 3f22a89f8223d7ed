import { EventUtils, type Event } from '@nostr-relay/common';
import { initEventSigner, verifyEvent } from '@frostbunker/shared/nostr';

/**
 * The relay's signature check through libsecp256k1 in WebAssembly (issue 9: a fast signature check
 * in the embedded relay). `@nostr-relay/core` 0.0.40 checks every EVENT with
 * `EventUtils.validate`, which calls `EventUtils.isSigValid` (noble's pure-JS BIP-340, ~2 ms) and
 * offers no option or plugin hook to replace it, so the static method is swapped for
 * `verifyEvent` of `@frostbunker/shared/nostr` (~0.3 ms): same verdicts for NIP-01 events, and it
 * also refuses upper-case or short hex. `isIdValid` and the other checks in `validate` stay.
 *
 * Process-wide and idempotent: every relay in the process shares the one `EventUtils` class.
 */
export async function useFastSignatureCheck(): Promise<void> {
  await initEventSigner();
  if (EventUtils.isSigValid === fastIsSigValid) return;
  EventUtils.isSigValid = fastIsSigValid;
}

function fastIsSigValid(event: Event): boolean {
  return verifyEvent(event);
}
