/**
 * Benchmark: how long proxy mode `ebpf` takes to program a node's maps — a full sync of 1, 1,000
 * and 30,000 Service ports (two endpoints each; a fresh load of the object each time), then one
 * changed port at 30,000 (a partial sync). "full*": a second full sync at the largest size, the
 * object already pinned — the map writes alone. Runs in a throwaway namespace (no interface: nothing is
 * attached) with a bpffs mounted under a temporary folder, both removed after.
 *
 *   npm run build && node dist/bench/proxy-ebpf-sync.js [--max N]   (N: largest size, default 30000)
 */
import { mkdtempSync, rmdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { formatIPv4, parseIPv4 } from '../src/lib/ip';
import { mountBpffs, unmountUnder } from '../src/lib/mounts';
import { addNetns, deleteNetns } from '../src/lib/netns';
import type { ProxyInput, ProxyService } from '../src/proxy/model';
import { ebpfProxy } from '../src/proxy/ebpf';

const at = process.argv.indexOf('--max');
const MAX = at > 0 ? Number(process.argv[at + 1]) : 30000;
const SIZES = [1, 1000, 30000].filter((n) => n <= MAX);

function services(n: number, changed = -1): ProxyService[] {
  const base = parseIPv4('10.96.0.1');
  return Array.from({ length: n }, (_, i) => ({
    name: `s${String(i).padStart(5, '0')}`,
    portName: '',
    clusterIp: formatIPv4(base + i),
    port: 80,
    protocol: 'tcp' as const,
    endpoints: [0, 1, ...(i === changed ? [2] : [])].map((k) => ({
      ip: formatIPv4(parseIPv4('10.244.0.0') + ((i * 3 + k) % 65000) + 2),
      port: 8080,
      node: 'n',
      pod: `p${i}-${k}`,
    })),
  }));
}
const input = (s: ProxyService[]): ProxyInput => ({
  node: 'n',
  clusterCidr: '10.244.0.0/16',
  serviceCidr: '10.96.0.0/16',
  services: s,
});

async function main(): Promise<void> {
  const ns = `cnilabt-${randomBytes(3).toString('hex')}-bench`;
  const mnt = mkdtempSync(join(tmpdir(), 'cnilabt-bpf-'));
  await addNetns(ns);
  try {
    await mountBpffs(mnt);
    const rows: string[] = [];
    for (const n of SIZES) {
      const node = { netns: ns, dir: join(mnt, `n${n}`) };
      const all = services(n);
      const full = await ebpfProxy.sync(node, input(all), undefined);
      rows.push(
        `full     ${String(n).padStart(6)} ports  ${full.ms.toFixed(1).padStart(8)} ms  ${full.written} entries`,
      );
      if (n === SIZES[SIZES.length - 1]) {
        const again = await ebpfProxy.sync(node, input(all), undefined);
        rows.push(
          `full*    ${String(n).padStart(6)} ports  ${again.ms.toFixed(1).padStart(8)} ms  ${again.written} entries`,
        );
        const one = await ebpfProxy.sync(node, input(services(n, Math.floor(n / 2))), input(all));
        rows.push(
          `partial  ${String(n).padStart(6)} ports  ${one.ms.toFixed(1).padStart(8)} ms  ${one.written} entries`,
        );
      }
      await ebpfProxy.cleanup(node);
    }
    console.log(`proxy ebpf sync (${new Date().toISOString()}), ${(await ebpfProxy.backend()).trim()}:`);
    for (const r of rows) console.log(`  ${r}`);
  } finally {
    await unmountUnder(mnt);
    rmdirSync(mnt);
    await deleteNetns(ns);
  }
}

void main().catch((e: unknown) => {
  console.error(e);
  process.exitCode = 1;
});
