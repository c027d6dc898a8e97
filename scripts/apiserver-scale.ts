/**
 * How the API server's store holds up at scale (issue 32): PODS pods and SERVICES Services of ~4
 * endpoints each, loaded in one transaction each; then what one change costs. Prints figures only
 * it measured. `node dist/scripts/apiserver-scale.js [--services N]` (default 30000).
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { serviceSpecSchema } from '../src/apiserver/model';
import { ApiStore } from '../src/apiserver/store';
import { formatIPv4, parseIPv4 } from '../src/lib/ip';

const i = process.argv.indexOf('--services');
const SERVICES = i > 0 ? Number(process.argv[i + 1]) : 30000;
const PER = 4;
const CONFIG = { serviceCidr: '10.96.0.0/16', clusterCidr: '10.128.0.0/9' };
const dir = mkdtempSync(join(tmpdir(), 'cnilab-api-scale-'));
const file = join(dir, 'api.db');
const mb = (n: number): string => `${(n / 2 ** 20).toFixed(0)} MiB`;
function time<T>(what: string, f: () => T, n = 1): T {
  const t0 = performance.now();
  let r!: T;
  for (let k = 0; k < n; k++) r = f();
  const ms = (performance.now() - t0) / n;
  process.stdout.write(
    `${what.padEnd(58)} ${ms < 10 ? ms.toFixed(2) : ms.toFixed(0)} ms${n > 1 ? ` (mean of ${n})` : ''}\n`,
  );
  return r;
}

try {
  const rss0 = process.memoryUsage().rss;
  let store = new ApiStore(file, CONFIG);
  const base = parseIPv4('10.128.0.10');
  const pods = Array.from({ length: SERVICES * PER }, (_, k) => ({
    name: `p${k}`,
    node: `node${(k % 16) + 1}`,
    ip: formatIPv4(base + k),
    labels: { app: `s${Math.floor(k / PER)}`, tier: k % 2 ? 'a' : 'b' },
  }));
  time(`${pods.length} pods, one transaction`, () => store.putPods(pods));
  const specs = Array.from({ length: SERVICES }, (_, k) =>
    serviceSpecSchema.parse({ name: `s${k}`, ports: [{ port: 80, targetPort: 8080 }], selector: { app: `s${k}` } }),
  );
  time(`${SERVICES} Services, one transaction (validated before)`, () => store.createServices(specs));
  global.gc?.();
  const { rss, heapUsed } = process.memoryUsage();
  process.stdout.write(
    `memory after loading: rss ${mb(rss)} (+${mb(rss - rss0)}), heap ${mb(heapUsed)}; file ${mb(statSync(file).size)}\n`,
  );
  const full = time('GET /api/proxy full (store.proxy(0))', () => store.proxy(0));
  process.stdout.write(
    `  ${full.services.length} Service ports, ${full.services.reduce((n, s) => n + s.endpoints.length, 0)} endpoints, JSON ${mb(JSON.stringify(full).length)}\n`,
  );
  let r = store.index;
  let flip = 0;
  time(
    'relabel one pod to another Service (2 Services change)',
    () => store.setLabels('p0', { app: `s${++flip % 2}` }),
    200,
  );
  const since = time('changes since the revision before those 200', () => store.proxy(r));
  process.stdout.write(`  ${since.services.length} Service ports changed\n`);
  time(
    'a label no selector reads (no Service changes)',
    () => store.setLabels('p5', { app: 's1', x: String(flip++) }),
    200,
  );
  time(
    'add a pod to a Service',
    () =>
      store.putPod(`new${flip++}`, {
        node: 'node1',
        ip: formatIPv4(base + SERVICES * PER + flip),
        labels: { app: 's7' },
      }),
    200,
  );
  r = store.index;
  time(
    'create one Service (allocate a ClusterIP)',
    () => store.createServices([serviceSpecSchema.parse({ name: `x${flip++}`, ports: [{ port: 1 }], pods: ['p1'] })]),
    200,
  );
  time('delete one Service (tombstone)', () => store.deleteService(`s${flip++ % SERVICES}`), 200);
  const after = time('changes since before the 400 Service changes', () => store.proxy(r));
  process.stdout.write(`  ${after.services.length} changed, ${after.removed.length} removed\n`);
  store.close();
  store = time('reopen (indexes rebuilt from SQLite)', () => new ApiStore(file, CONFIG));
  store.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
