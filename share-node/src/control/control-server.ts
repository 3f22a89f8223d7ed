import { chmodSync, existsSync, unlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import type { Logger } from '@frostbunker/shared/logger';
import { CONTROL_MAX_LINE_BYTES, controlRequestSchema, type ControlRequest, type ControlResponse } from './control-protocol.js';

/**
 * Serves the CLI on a unix socket (mode 0600: only the node's user may approve, deny or freeze).
 * One JSON line in, one JSON line out per connection.
 */
export async function startControlServer(options: {
  socketPath: string;
  handle: (request: ControlRequest) => Promise<unknown> | unknown;
  logger: Logger;
}): Promise<{ close(): Promise<void> }> {
  // A socket file left by a killed node would make listen() fail with EADDRINUSE.
  if (existsSync(options.socketPath)) unlinkSync(options.socketPath);
  const server: Server = createServer((socket) => {
    let buffer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(10_000, () => socket.destroy());
    const answer = (response: ControlResponse) => socket.end(`${JSON.stringify(response)}\n`);
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (Buffer.byteLength(buffer) > CONTROL_MAX_LINE_BYTES) return answer({ ok: false, error: 'request too large' });
      const newline = buffer.indexOf('\n');
      if (newline < 0) return;
      let json: unknown;
      try {
        json = JSON.parse(buffer.slice(0, newline));
      } catch {
        return answer({ ok: false, error: 'request is not JSON' });
      }
      const parsed = controlRequestSchema.safeParse(json);
      if (!parsed.success) return answer({ ok: false, error: 'unknown or malformed command' });
      options.logger.info('control command', { cmd: parsed.data.cmd });
      Promise.resolve()
        .then(() => options.handle(parsed.data))
        .then(
          (result) => answer({ ok: true, result }),
          (error: unknown) => answer({ ok: false, error: error instanceof Error ? error.message : String(error) }),
        );
    });
    socket.on('error', () => socket.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.socketPath, () => resolve());
  });
  chmodSync(options.socketPath, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        if (existsSync(options.socketPath)) unlinkSync(options.socketPath);
      }),
  };
}
