/**
 * The crr server: answers each connection's first line with its name and the client address it
 * sees ("NAME IP:PORT"), then closes — the smallest request-response a connection can carry.
 */
import { createServer, type Server } from 'node:net';

export function crrServer(name: string): Server {
  return createServer((sock) => {
    sock.setNoDelay(true);
    sock.once('data', () => {
      sock.end(`${name} ${sock.remoteAddress ?? '?'}:${sock.remotePort ?? 0}\n`);
    });
    sock.on('error', () => sock.destroy());
  });
}
