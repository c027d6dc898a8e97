/**
 * How big each proxy mode's full sync is and how long it takes to write, for N Services of 4
 * endpoints: generation time and text size per mode, and for iptables and nftables the real load
 * time of that full sync (the mode's own SyncReport.ms), then of one partial sync (one endpoint
 * of one Service gone), in a scratch namespace cnilabt-gen-PID, deleted after. Every command of a
 * load is killed after --timeout seconds, so the script never blocks for long: a load that did
 * not finish prints "> Ns". A measurement to run by hand, not a test:
 *   npm run build && node dist/scripts/proxy-gen-size.js [COUNTS…]     (default 1 1000 10000)
 *   … --modes iptables,nftables     only these modes (default: every mode that generates text)
 *   … --timeout 120                 seconds per load command (default 120)
 *   … --netns NAME                  the scratch namespace (default cnilabt-gen-PID; must not exist)
 *   … --no-load                     generation only
 */
import { addNetns, deleteNetns } from '../src/lib/netns';
import { CnilabError } from '../src/lib/errors';
import { proxyModes } from '../src/proxy';
import type { ProxyMode } from '../src/proxy/mode';
import { iptablesMode } from '../src/proxy/iptables/mode';
import { restoreText } from '../src/proxy/iptables/rules';
import { nftablesMode } from '../src/proxy/nftables/mode';
import { nftScript } from '../src/proxy/nftables/rules';
import { ipvsScripts } from '../src/proxy/ipvs/rules';
import { inputOf, manyServices } from '../src/proxy/sample';
import type { ProxyInput } from '../src/proxy/model';

const ENDPOINTS = 4;
const args = process.argv.slice(2);
const flag = (name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};
const load = !args.includes('--no-load');
const timeoutMs = Number(flag('--timeout') ?? 120) * 1000;
const wanted = flag('--modes')?.split(',');
const netns = flag('--netns') ?? `cnilabt-gen-${process.pid}`;
const counts = args.filter((a, i) => /^\d+$/.test(a) && args[i - 1] !== '--timeout').map(Number);

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
const LOADS: Record<string, ProxyMode> = { iptables: iptablesMode, nftables: nftablesMode };

/** The same Services, the first one with one endpoint fewer: one partial sync's worth of change. */
function oneEndpointGone(input: ProxyInput): ProxyInput {
  const [first, ...rest] = input.services;
  return inputOf([{ ...first!, endpoints: first!.endpoints.slice(1) }, ...rest]);
}

const ms = (x: number): string => `${x.toFixed(0)} ms`;
const timedOut = (e: unknown): boolean => e instanceof CnilabError && e.code === 'EXEC_TIMEOUT';

/** Full sync, then one partial sync, in a scratch namespace: their times, or "> Ns" when killed. */
async function loadMs(mode: ProxyMode, input: ProxyInput): Promise<{ full: string; partial: string }> {
  const node = { netns, dir: '/nonexistent', timeoutMs };
  await addNetns(node.netns);
  const over = `> ${timeoutMs / 1000}s`;
  try {
    let full: number;
    try {
      full = (await mode.sync(node, input, undefined)).ms;
    } catch (e) {
      if (timedOut(e)) return { full: over, partial: '-' };
      throw e;
    }
    let partial: string;
    try {
      partial = ms((await mode.sync(node, oneEndpointGone(input), input)).ms);
    } catch (e) {
      if (!timedOut(e)) throw e;
      partial = over;
    }
    await mode.cleanup(node).catch((e: unknown) => (timedOut(e) ? undefined : Promise.reject(e)));
    return { full: ms(full), partial };
  } finally {
    await deleteNetns(node.netns);
  }
}

async function main(): Promise<void> {
  console.log(`proxy-gen-size ${new Date().toISOString()}: ${ENDPOINTS} endpoints per Service`);
  console.log('mode      services  generate_ms  MB      entries  full_load  partial_load');
  for (const n of counts.length > 0 ? counts : [1, 1000, 10_000]) {
    const input = manyServices(n, ENDPOINTS);
    for (const name of proxyModes.names()) {
      const gen = GENERATE[name];
      if (!gen || (wanted && !wanted.includes(name))) continue;
      const t0 = performance.now();
      const { bytes, written } = gen(input);
      const genMs = performance.now() - t0;
      const real = LOADS[name];
      const loaded = load && real ? await loadMs(real, input) : { full: '-', partial: '-' };
      console.log(
        `${name.padEnd(9)} ${String(n).padStart(8)}  ${genMs.toFixed(0).padStart(11)}  ${(bytes / 1e6).toFixed(2).padStart(6)}  ` +
          `${String(written).padStart(7)}  ${loaded.full.padStart(9)}  ${loaded.partial}`,
      );
    }
  }
}

main().catch((e: unknown) => {
  console.error(e);
  process.exit(1);
});
