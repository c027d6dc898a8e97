/** On a distribution's stock kernel, `cnilab doctor` finds every kernel feature cnilab can use. */
import assert from 'node:assert/strict';
import { release } from 'node:os';
import { cli } from '../integration/helpers';
import { kernelTest } from '../integration/kernel';

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
    const missing = features.filter((f) => !f.ok).map((f) => `${f.feature}: ${f.detail}`);
    assert.deepEqual(missing, [], `kernel ${release()}`);
    const detail = (f: string) => features.find((x) => x.feature === f)?.detail;
    assert.equal(detail('openvswitch'), 'kernel module available');
    assert.equal(detail('vlan'), 'supported');
    assert.equal(detail('ipvlan'), 'supported');
    // Loaded by the VM at boot (scripts/kernel-vm.sh), as on a host that uses it.
    assert.equal(detail('ipip'), 'kernel module loaded');
    const skipped = doc.architectures.filter((a) => !a.ok).map((a) => `${a.name}: ${a.reason}`);
    assert.deepEqual(skipped, [], 'every architecture runs');
  },
);
