/**
 * A lab's Services through each proxy mode, on two architectures (services-check.ts says what is
 * checked); a kind whose data path cannot carry a proxy refuses one. Nothing left after `down`.
 */
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, test } from 'node:test';
import { runDir } from '../../src/lab/names';
import { probeFeatures, missingReason } from '../../src/doctor/features';
import { proxyModes } from '../../src/proxy';
import { cli, withLab } from './helpers';
import { correctness, topology } from './services-check';

const ARCHS = ['flannel-vxlan', 'calico-bgp'];

describe('Services through each proxy mode', async () => {
  const features = await probeFeatures();
  for (const arch of ARCHS)
    for (const mode of proxyModes.names()) {
      const missing = missingReason(features, proxyModes.get(mode).requires);
      test(
        `${mode} on ${arch}: spread, a removed endpoint, no endpoints refused, the source seen, partial syncs`,
        {
          skip: missing ? `${mode} ${missing}` : false,
        },
        () => withLab(`svc-${mode.slice(0, 4)}-${arch.slice(0, 4)}`, arch, (s) => correctness(s, mode), topology(mode)),
      );
    }
  test('ebpf-native refuses a proxy in one line, before anything is made', async () => {
    const r = await cli(['up', '--arch', 'ebpf-native', '--lab', 'svc-refused', '--proxy', 'nftables']);
    assert.notEqual(r.code, 0, r.stderr);
    assert.match(r.stderr, /proxy: this data path's tc programs move pods' packets past the node's IP stack/);
    assert.equal(r.stderr.trim().split('\n').length, 1);
    assert.equal(existsSync(runDir('svc-refused')), false);
  });
});
