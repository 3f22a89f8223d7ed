import { Failpoints } from '@frostbunker/shared/config';
import type { Logger } from '@frostbunker/shared/logger';
import {
  isCeremonyMessage,
  type FromNodeCeremonyMessage,
  type FromNodeMessage,
  type ToNodeMessage,
  type ToShareNodeMessage,
  type XOnlyPubkey,
} from '@frostbunker/shared/protocol';
import type { SendOptions, Transport } from '@frostbunker/shared/transport';
import type { CeremonyHandler } from './ceremony/ceremony-handler.js';
import type { ShareSigner } from './signer/share-signer.js';

/**
 * Wires a ShareSigner to its transport: every authenticated coordinator message gets exactly one
 * immediate reply, and replies decided later (approvals) go to the enrolled coordinator.
 */
export function serveShareSigner(options: {
  transport: Transport<ToNodeMessage, FromNodeMessage>;
  signer: ShareSigner;
  logger: Logger;
}): () => void {
  const { transport, signer, logger } = options;
  return transport.onMessage(({ senderPubkey, message }) => {
    const reply = signer.handle(message);
    sendOrLog(transport, senderPubkey, reply, logger, signer.logged());
  });
}

/**
 * Wires a whole share node: signing messages to the signer in service (a getter: a committed
 * refresh puts a new one in service), ceremony messages to the ceremony handler. One reply each.
 */
export function serveShareNode(options: {
  transport: Transport<ToShareNodeMessage, FromNodeMessage | FromNodeCeremonyMessage>;
  signer: () => ShareSigner;
  ceremony: CeremonyHandler;
  logger: Logger;
  /** Test-mode failpoints; default: from the environment (armed only in test mode). */
  failpoints?: Failpoints;
}): () => void {
  const { transport, signer, ceremony, logger } = options;
  const failpoints = options.failpoints ?? Failpoints.fromEnv(process.env, (warning) => logger.warn(warning));
  return transport.onMessage(({ senderPubkey, message }) => {
    if (isCeremonyMessage(message)) {
      ceremony.handle(message).then(
        (reply) => sendOrLog(transport, senderPubkey, reply, logger),
        (error: unknown) => logger.error('ceremony handler failed', { type: message.type, error: String(error) }),
      );
      return;
    }
    const current = signer();
    const reply = current.handle(message);
    // Test mode only (RELIABILITY.md §3 failpoints; G4): die after z_i was computed, before it leaves.
    if (reply.type === 'round2_share' || reply.type === 'sign_share') failpoints.hit('round2.before_send');
    sendOrLog(transport, senderPubkey, reply, logger, current.logged());
  });
}

/**
 * Sends a node reply, once `after` (the node log's fsync) resolves; a failed publish or fsync is
 * logged, since the coordinator's deadline covers it.
 */
export function sendOrLog<M extends { type: string }>(
  transport: { send(recipient: XOnlyPubkey, message: M, options?: SendOptions): Promise<void> },
  recipient: XOnlyPubkey,
  message: M,
  logger: Logger,
  after?: Promise<void>,
): void {
  transport.send(recipient, message, after === undefined ? undefined : { after }).catch((error: unknown) => {
    logger.warn('reply not sent', { type: message.type, error: String(error) });
  });
}
