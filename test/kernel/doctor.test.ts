/**
 * On a distribution's stock kernel, `cnilab doctor` finds every kernel feature cnilab can use —
 * but those only newer kernels have (netkit, IPv4 BIG TCP: NEWER_KERNEL_FEATURES), which it lists
 * either way and must find where the tier requires them (the 6.12 run: CNILAB_REQUIRE_FEATURES).
 * The architectures needing a feature it may lack are the only ones it may say no to.
 */
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { cli } from '../integration/helpers';
import { kernelTest, NEWER_KERNEL_FEATURES, REQUIRED_FEATURES } from '../integration/kernel';

kernelTest(
  'doctor: every feature present and every architecture runnable on a stock kernel with all its modules',
  ['openvswitch', '8021q', 'ipvlan', 'ipip'],
  async () => {
    const r = await cli(['doctor', '--json']);
    const doc = JSON.parse(r.stdout) as {
      features: { feature: string; ok: boolean; detail: string }[];
      architectures: { name: string; ok: boolean; reason?: string }[];
    };
    const features = doc.features;
    const optional = (f: string): boolean => NEWER_KERNEL_FEATURES.includes(f) && !REQUIRED_FEATURES.has(f);
    const missing = features.filter((f) => !f.ok && !optional(f.feature)).map((f) => `${f.feature}: ${f.detail}`);
    assert.deepEqual(missing, [], `kernel ${release()}`);
    for (const f of NEWER_KERNEL_FEATURES)
      assert.ok(
        features.some((x) => x.feature === f),
        `the doctor lists ${f}, found or not`,
      );
    const lacking = new Set(features.filter((f) => !f.ok).map((f) => f.feature));
    const detail = (f: string) => features.find((x) => x.feature === f)?.detail;
    assert.equal(detail('openvswitch'), 'kernel module available');
    assert.equal(detail('vlan'), 'supported');
    assert.equal(detail('ipvlan'), 'supported');
    // Loaded by the VM at boot (scripts/kernel-vm.sh), as on a host that uses it.
    assert.equal(detail('ipip'), 'kernel module loaded');
    // an architecture the doctor says no to only for lacking such a feature (ebpf-netkit without netkit)
    const skipped = doc.architectures
      .filter((a) => !a.ok && ![...lacking].some((f) => optional(f) && a.reason?.includes(f)))
      .map((a) => `${a.name}: ${a.reason}`);
    assert.deepEqual(skipped, [], 'every architecture runs');
  },
);
