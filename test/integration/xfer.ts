/**
 * Moves bytes over TCP and checks them end to end, for data-path integrity tests. Run inside lab
 * namespaces with `ip netns exec`:
 *   node xfer.js server IP PORT           accepts one connection; prints {"bytes","sha256"} of what it got
 *   node xfer.js client IP PORT MBYTES    sends MBYTES of seeded pseudo-random data; prints {"bytes","sha256"}
 */
import { createHash } from 'node:crypto';
import { createConnection, createServer } from 'node:net';

const [mode, ip, port, mbytes] = process.argv.slice(2);
const hash = createHash('sha256');
let bytes = 0;
const done = (): void => void process.stdout.write(JSON.stringify({ bytes, sha256: hash.digest('hex') }) + '\n');

if (mode === 'server') {
  const server = createServer((c) => {
    c.on('data', (d: Buffer) => {
      hash.update(d);
      bytes += d.length;
    });
    c.on('end', () => {
      done();
      c.end();
      server.close();
    });
  });
  server.listen(Number(port), ip);
} else {
  // xorshift32: reproducible, incompressible-looking bytes without reading a file
  let x = 2463534242;
  const chunk = (): Buffer => {
    const b = Buffer.allocUnsafe(1 << 20);
    for (let i = 0; i < b.length; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      b.writeInt32LE(x | 0, i);
    }
    return b;
  };
  const total = Number(mbytes);
  const c = createConnection({ host: ip, port: Number(port) }, () => {
    let sent = 0;
    const pump = (): void => {
      while (sent < total) {
        const b = chunk();
        hash.update(b);
        bytes += b.length;
        sent++;
        if (!c.write(b)) return void c.once('drain', pump);
      }
      c.end();
    };
    pump();
  });
  c.on('close', done);
  c.resume();
}
