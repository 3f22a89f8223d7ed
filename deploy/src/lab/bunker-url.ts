/** NIP-46 `bunker://<remote-signer-pubkey>?relay=…&secret=…` connection URL. */
export function buildBunkerUrl(transportPubkey: string, relays: readonly string[], secret: string): string {
  const query = new URLSearchParams();
  for (const relay of relays) query.append('relay', relay);
  query.set('secret', secret);
  return `bunker://${transportPubkey}?${query.toString()}`;
}
