import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cgroup2Root, podCgroup } from './cgroup';

const HYBRID = [
  '30 23 0:26 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw',
  '41 30 0:35 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw',
].join('\n');

test('cgroup v2 is found where it is mounted; none mounted is FEATURE_MISSING', () => {
  assert.equal(cgroup2Root(HYBRID), '/sys/fs/cgroup/unified');
  assert.throws(() => cgroup2Root(HYBRID.split('\n')[0]!), { code: 'FEATURE_MISSING' });
});

test('the socket programs attach only under <root>/cnilab/, never the root cgroup', () => {
  const root = '/sys/fs/cgroup';
  assert.equal(podCgroup(root, '/sys/fs/cgroup/cnilab/cnilab-lab.n1'), '/sys/fs/cgroup/cnilab/cnilab-lab.n1');
  for (const bad of [
    '/sys/fs/cgroup',
    '/sys/fs/cgroup/',
    '/sys/fs/cgroup/cnilab',
    '/sys/fs/cgroup/cnilab/..',
    '/sys/fs/cgroup/cnilab/../system.slice',
    '/sys/fs/cgroup/system.slice',
    '/',
  ])
    assert.throws(() => podCgroup(root, bad), { code: 'INVALID_INPUT' }, bad);
});
