/**
 * The conformance harness for the plugin contract: each case runs against cnilab's plugins and the
 * reference plugins (/usr/lib/cni, containernetworking-plugins v1.1.1) side by side, over every spec
 * version both speak. Every case goes through cnilab's runtime (so the runtime is also shown driving
 * the reference plugins) in two host namespaces, one per implementation, with the same container ID:
 * results must be equal (MACs and host-side veth names aside) and so must the kernel state each
 * leaves — links, kinds, MTUs, addresses, routes, bridge ports, hairpin, promiscuity, the links'
 * IPv6 DAD / router-advertisement / arp_notify sysctls, forwarding of both families, iptables nat
 * rules, nftables bridge rules — after ADD and after DEL; and, right after ADD, which addresses are
 * still in IPv6 duplicate address detection (the reference waits for it on some plugins, not on
 * others: configure-iface.ts). The two implementations' ADDs, CHECKs and DELs run at once.
 *
 * The reference v1.1.1 speaks up to 1.0.0: cnilab at 1.1.0 is compared with the reference running
 * the same case at 1.0.0 (results equal bar the version, kernel state equal), and STATUS and GC,
 * which the reference lacks, are cnilab's alone.
 *
 * test/integration/cni-conformance.test.ts (IPv4) and cni-conformance-ipv6.test.ts (IPv6, dual stack) run
 * the cases this host's kernel can;
 * test/kernel/cni-conformance.test.ts the ones that need modules it may lack (8021q, ipvlan).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { CniRuntime } from '../../src/cni/runtime';
import { CniError, type NetConfList, type PluginConf, type Result } from '../../src/cni/types';
import { deleteNetns, runIn } from '../../src/lib/netns';
import { writeNetSysctls } from '../../src/lib/sysctl';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { nodeNetns, runDir } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { addHostWithMaster, assertNothingLeft, rootSnapshot, type RootSnapshot } from './helpers';
import { scratchPod, scratchRuntime } from './scratch';
import { kernelState, normalizeResult, unsettledAddresses } from './cni-state';
import { kernelSkip, missingModules } from './kernel';

const REFERENCE_DIR = '/usr/lib/cni';
const VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
const REFERENCE_VERSIONS = new Set(['0.3.0', '0.3.1', '0.4.0', '1.0.0']);
export type Impl = 'ours' | 'ref';
const IMPLS: Impl[] = ['ours', 'ref'];

export interface Case {
  readonly name: string;
  /** The plugin configuration, given the implementation's IPAM data directory. */
  plugin(dir: string): PluginConf;
  /** An address the pod must reach after ADD. */
  readonly ping?: string;
  /** Kernel modules the case needs: skipped with the reason where they are missing (failed in the kernel tier). */
  readonly modules?: readonly string[];
  /** The reference's CHECK fails on this case, for this reason (a bug of v1.1.1): asserted as such. */
  readonly referenceCheckFails?: RegExp;
}

/** A host-local store's file that holds an allocation (named by its IPv4 or IPv6 address). */
export const isAddressFile = (f: string): boolean => /^[\d.]+$/.test(f) || f.includes(':');

type RuntimeConf = { containerId: string; netns: string; ifName: string };

/** The addresses a host-local store directory still holds. */
const allocated = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir).filter(isAddressFile) : []);

/** Runs `fn` for both implementations at once; they share nothing (namespaces, stores, caches). */
const both = async (fn: (impl: Impl) => Promise<void>): Promise<void> => {
  await Promise.all(IMPLS.map(fn));
};

export const hl = (dir: string, extra: Record<string, unknown>): Record<string, unknown> => ({
  type: 'host-local',
  dataDir: dir,
  ...extra,
});

/** What a suite's own tests use beside the cases: the two runtimes, their namespaces, a new pod namespace. */
export interface Harness {
  readonly runtimes: Record<Impl, CniRuntime>;
  host(impl: Impl): string;
  dataDir(impl: Impl): string;
  newPod(): Promise<string>;
}

/**
 * Defines the suite of `cases` in lab `lab`: both implementations' host namespaces, each with a
 * veth `up0` (the master of macvlan, vlan and ipvlan cases), made before and removed after.
 */
// eslint-disable-next-line max-lines-per-function -- one case's steps, read in order
export function conformanceSuite(lab: string, cases: readonly Case[]): Harness {
  const host = (impl: Impl): string => nodeNetns(lab, impl);
  const dataDir = (impl: Impl): string => join(runDir(lab), impl, 'ipam');
  const runtime = (impl: Impl, dir: string): CniRuntime =>
    scratchRuntime(lab, { node: impl, cniPath: [dir], cache: join(impl, 'cache') });
  const runtimes: Record<Impl, CniRuntime> = { ours: runtime('ours', CNI_BIN_DIR), ref: runtime('ref', REFERENCE_DIR) };
  let root: RootSnapshot;
  let podSeq = 0;
  const newPod = async (): Promise<string> => {
    const { ns } = await scratchPod(lab, `c${++podSeq}`, `conf-${podSeq}`);
    // DAD starts at once on the pods' interfaces, both implementations' alike (not after a random delay
    // of up to router_solicitation_delay, 1 s): where ADD waits for DAD, the wait is one probe, 1 s
    writeNetSysctls({ name: ns }, [['net/ipv6/conf/default/router_solicitation_delay', '0']]);
    return ns;
  };

  before(async () => {
    root = await rootSnapshot();
    await teardownLab(lab);
    for (const impl of IMPLS) {
      await addHostWithMaster(host(impl));
      // the host ends' and bridges' DAD too (a ping to an IPv6 gateway waits for it): at once, as in the pods
      writeNetSysctls({ name: host(impl) }, [['net/ipv6/conf/default/router_solicitation_delay', '0']]);
    }
  });

  after(async () => {
    await teardownLab(lab);
    await assertNothingLeft(lab, root);
  });

  async function states(pods: Record<Impl, string>): Promise<Record<Impl, unknown>> {
    const out = {} as Record<Impl, unknown>;
    await both(async (impl) => {
      const [h, p] = await Promise.all([kernelState(host(impl), { netfilter: true }), kernelState(pods[impl])]);
      out[impl] = { host: h, pod: p };
    });
    return out;
  }

  /** CHECK as the version allows: refused before 0.4.0; the reference's known failure as such; else passing. */
  async function checkAs(impl: Impl, c: Case, list: NetConfList, rt: RuntimeConf): Promise<void> {
    if (list.cniVersion === '0.3.0' || list.cniVersion === '0.3.1') {
      await assert.rejects(
        runtimes[impl].checkNetworkList(list, rt),
        (e: CniError) => e.code === 1,
        'no CHECK before 0.4.0',
      );
    } else if (impl === 'ref' && c.referenceCheckFails) {
      await assert.rejects(runtimes[impl].checkNetworkList(list, rt), c.referenceCheckFails);
    } else await runtimes[impl].checkNetworkList(list, rt);
  }

  for (const c of cases) {
    describe(c.name, () => {
      for (const version of VERSIONS) {
        // The reference v1.1.1 speaks up to 1.0.0: against cnilab at 1.1.0 it runs the same case at 1.0.0.
        const refVersion = REFERENCE_VERSIONS.has(version) ? version : '1.0.0';
        test(
          `${version}${refVersion === version ? '' : ` (the reference at ${refVersion}: it speaks up to 1.0.0)`}`,
          { skip: c.modules ? kernelSkip(c.modules) : false },
          async () => {
            if (c.modules && missingModules(c.modules))
              assert.fail(`the kernel tier's kernel must have them: ${missingModules(c.modules)}`);
            const containerId = `conf-${podSeq + 1}`;
            const [ours, ref] = await Promise.all([newPod(), newPod()]);
            const pods = { ours, ref };
            const rt = (impl: Impl): RuntimeConf => ({
              containerId,
              netns: `/run/netns/${pods[impl]}`,
              ifName: 'eth0',
            });
            const list = (impl: Impl): NetConfList => ({
              cniVersion: impl === 'ref' ? refVersion : version,
              name: `conf-${c.name.split(':')[0]!.replace(/\W+/g, '-')}`,
              plugins: [c.plugin(dataDir(impl))],
            });
            const before = await states(pods);

            // Both ADDs at once (an IPv6 ADD may wait 1–2 s for DAD); what each left still in DAD, right after it.
            const results = {} as Record<Impl, Result>;
            const unsettled = {} as Record<Impl, string[]>;
            await both(async (impl) => {
              results[impl] = await runtimes[impl].addNetworkList(list(impl), rt(impl));
              unsettled[impl] = await unsettledAddresses(pods[impl], 'eth0');
            });
            assert.deepEqual(unsettled.ours, unsettled.ref, 'addresses still in DAD (tentative) when ADD returned');
            assert.equal(results.ours.cniVersion, version);
            for (const ip of results.ours.ips ?? [])
              assert.equal('version' in ip, version.startsWith('0.'), '0.x results carry the IP version, 1.x do not');
            const after = await states(pods);
            // At 1.1.0 the result may differ from the reference's 1.0.0 one only in its version.
            assert.deepEqual(
              normalizeResult({ ...results.ours, cniVersion: refVersion }),
              normalizeResult(results.ref),
              'results',
            );
            assert.deepEqual(after.ours, after.ref, 'kernel state after ADD');
            // a deadline, not one try: the gateway's own IPv6 address may still be in DAD on the host side
            if (c.ping) await runIn({ name: pods.ours }, 'ping', ['-c', '1', '-w', '4', c.ping]);

            await both((impl) => checkAs(impl, c, list(impl), rt(impl)));
            if (version === '1.1.0') {
              await runtimes.ours.statusNetworkList(list('ours'));
              const kept = await runtimes.ours.gcNetworkList(list('ours'), [
                { containerID: containerId, ifname: 'eth0' },
              ]);
              assert.deepEqual(kept.deleted, []);
              await runtimes.ours.checkNetworkList(list('ours'), rt('ours')); // GC kept what is valid
            }

            await both(async (impl) => {
              await runtimes[impl].delNetworkList(list(impl), rt(impl));
              await runtimes[impl].delNetworkList(list(impl), rt(impl)); // a repeated DEL succeeds
            });
            const afterDel = await states(pods);
            assert.deepEqual(
              (afterDel.ours as { pod: unknown }).pod,
              (before.ours as { pod: unknown }).pod,
              'DEL leaves the pod as it was',
            );
            assert.deepEqual(afterDel.ours, afterDel.ref, 'kernel state after DEL');
            for (const impl of IMPLS)
              assert.deepEqual(
                allocated(join(dataDir(impl), list(impl).name)),
                [],
                `${impl}: no address left allocated`,
              );
            await Promise.all([deleteNetns(pods.ours), deleteNetns(pods.ref)]);
          },
        );
      }
    });
  }
  return { runtimes, host, dataDir, newPod };
}
