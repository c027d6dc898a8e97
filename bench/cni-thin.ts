/**
 * bench/cni.ts's prototype of the fourth road for plugin start-up: a thin client to a per-node
 * plugin server (the design of Multus' thick plugin, Kuryr's daemon, Cilium's agent). The server
 * is a long-lived Node process in the node's namespace running cnilab's bridge in-process (its
 * host-local too), one request at a time; the client is a Bun script that passes the CNI
 * environment and stdin over a Unix socket and prints the answer. It exists to be measured beside
 * the other roads, not shipped: a plugin must also work cold, with no server (see docs/cni.md).
 *
 *   node dist/bench/cni-thin.js SOCKET      the server; prints "ready" once it listens
 */
import { createServer } from 'node:net';
import { join } from 'node:path';
import { runSkel } from '../src/cni/skel';
import { bridgePlugin } from '../src/cni/plugins/bridge/bridge';
import { withOwnIpam } from '../src/cni/plugins/own-ipam';
import { CNI_BIN_DIR } from '../src/lib/paths';

/** The client's source: the CNI_* environment and stdin to the server, its answer to stdout, its code as ours. */
export function clientSource(bun: string, socket: string): string {
  return `#!${bun}
const fs = require('node:fs');
let stdin = '';
try { stdin = fs.readFileSync(0, 'utf8'); } catch {}
const env = {};
for (const [k, v] of Object.entries(process.env)) if (k.startsWith('CNI_')) env[k] = v;
let answer = '';
Bun.connect({
  unix: ${JSON.stringify(socket)},
  socket: {
    open(s) { s.write(JSON.stringify({ env, stdin }) + '\\n'); },
    data(s, d) { answer += d.toString(); },
    close() {
      const r = JSON.parse(answer);
      process.stdout.write(r.out);
      process.exit(r.code);
    },
    error() { process.exit(1); },
  },
});
`;
}

function serve(socket: string): void {
  withOwnIpam();
  // host-local runs in-process only when the one on CNI_PATH sits beside "this plugin" (cni/invoke.ts)
  process.argv[1] = join(CNI_BIN_DIR, 'bridge');
  let queue = Promise.resolve();
  const server = createServer((conn) => {
    let text = '';
    conn.on('data', (d) => {
      text += d.toString();
      if (!text.endsWith('\n')) return;
      const req = JSON.parse(text) as { env: NodeJS.ProcessEnv; stdin: string };
      queue = queue.then(async () => {
        let out = '';
        const code = await runSkel(bridgePlugin, {
          env: { ...req.env, CNI_PATH: CNI_BIN_DIR },
          stdin: req.stdin,
          write: (t) => (out += t),
        });
        conn.end(JSON.stringify({ code, out }));
      });
    });
  });
  server.listen(socket, () => process.stdout.write('ready\n'));
  process.on('SIGTERM', () => server.close(() => process.exit(0)));
}

if (require.main === module) serve(process.argv[2]!);
