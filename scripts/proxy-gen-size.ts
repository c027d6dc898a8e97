/**
 * How big each proxy mode's full sync is and how long it takes to write, for N Services of 4
 * endpoints: generation time and text size per mode, and for iptables and nftables the real load
 * time of that full sync (the mode's own SyncReport.ms) in a scratch namespace cnilabt-gen-PID,
 * deleted after. A measurement to run by hand, not a test:
 *   npm run build && node dist/scripts/proxy-gen-size.js [COUNTS…]     (default 1 1000 10000 30000)
 *   … --no-load                                                      generation only
 */
import { addNetns, deleteNetns } from '../src/lib/netns';
import { proxyModes } from '../src/proxy';
import { iptablesMode } from '../src/proxy/iptables/mode';
import { restoreText } from '../src/proxy/iptables/rules';
import { nftablesMode } from '../src/proxy/nftables/mode';
import { nftScript } from '../src/proxy/nftables/rules';
import { ipvsScripts } from '../src/proxy/ipvs/rules';
import { manyServices } from '../src/proxy/sample';
import type { ProxyInput } from '../src/proxy/model';

const ENDPOINTS = 4;
const args = process.argv.slice(2);
const load = !args.includes('--no-load');
const counts = args.filter((a) => /^\d+$/.test(a)).map(Number);

/** Each mode's full-sync text: its size in bytes and entries. */
const GENERATE: Record<string, (input: ProxyInput) => { bytes: number; written: number }> = {
  iptables: (i) => {
    const r = restoreText(i, { kind: 'full' });
    return { bytes: r.text.length, written: r.written };
  },
  nftables: (i) => {
    const r = nftScript(i, { kind: 'full' });
    return { bytes: r.text.length, written: r.written };
  },
  ipvs: (i) => {
    const r = ipvsScripts(i, { kind: 'full' });
    return { bytes: r.ipvsadm.length + r.ipset.length + (r.iptables?.length ?? 0), written: r.written };
  },
};

async function loadMs(mode: typeof iptablesMode, input: ProxyInput): Promise<string> {
  const node = { netns: `cnilabt-gen-${process.pid}`, dir: '/nonexistent' };
  await addNetns(node.netns);
  try {
    const r = await mode.sync(node, input, undefined);
    await mode.cleanup(node);
    return `${r.ms.toFixed(0)} ms`;
  } finally {
    await deleteNetns(node.netns);
  }
}

async function main(): Promise<void> {
  console.log(`proxy-gen-size ${new Date().toISOString()}: ${ENDPOINTS} endpoints per Service`);
  console.log('mode      services  generate_ms  MB      entries  full_load');
  for (const n of counts.length > 0 ? counts : [1, 1000, 10_000, 30_000]) {
    const input = manyServices(n, ENDPOINTS);
    for (const name of proxyModes.names()) {
      const gen = GENERATE[name];
      if (!gen) continue;
      const t0 = performance.now();
      const { bytes, written } = gen(input);
      const ms = performance.now() - t0;
      const real = name === 'iptables' ? iptablesMode : name === 'nftables' ? nftablesMode : undefined;
      const loaded = load && real ? await loadMs(real, input) : '-';
      console.log(
        `${name.padEnd(9)} ${String(n).padStart(8)}  ${ms.toFixed(0).padStart(11)}  ${(bytes / 1e6).toFixed(2).padStart(6)}  ` +
          `${String(written).padStart(7)}  ${loaded}`,
      );
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
