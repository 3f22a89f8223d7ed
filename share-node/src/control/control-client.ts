import { createConnection } from 'node:net';
import type { ControlRequest, ControlResponse } from './control-protocol.js';

/** Sends one command to a running node; rejects with code ENOENT/ECONNREFUSED when none listens. */
export function sendControlRequest(socketPath: string, request: ControlRequest, timeoutMs = 10_000): Promise<ControlResponse> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(socketPath);
    let buffer = '';
    socket.setEncoding('utf8');
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer from the node within ${timeoutMs} ms`)));
    socket.on('connect', () => socket.write(`${JSON.stringify(request)}\n`));
    socket.on('data', (chunk: string) => (buffer += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      try {
        resolve(JSON.parse(buffer) as ControlResponse);
      } catch {
        reject(new Error('malformed answer from the node'));
      }
    });
  });
}
