import type { Logger } from '@frostbunker/shared/logger';
import type { FromNodeMessage, ToNodeMessage, XOnlyPubkey } from '@frostbunker/shared/protocol';
import type { Transport } from '@frostbunker/shared/transport';
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
    sendOrLog(transport, senderPubkey, reply, logger);
  });
}

/** Sends a node reply; a failed publish is logged, since the coordinator's deadline covers it. */
export function sendOrLog(
  transport: Transport<ToNodeMessage, FromNodeMessage>,
  recipient: XOnlyPubkey,
  message: FromNodeMessage,
  logger: Logger,
): void {
  transport.send(recipient, message).catch((error: unknown) => {
    logger.warn('reply not sent', { type: message.type, error: String(error) });
  });
}
