import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mountOf, mountsUnder, parseMountinfo } from './mounts';

const INFO = [
  '22 1 0:21 / / rw,relatime shared:1 - ext4 /dev/vda1 rw',
  '30 22 0:25 / /run rw,nosuid shared:5 - tmpfs tmpfs rw',
  '41 30 0:40 / /run/cnilab/a/bpf rw,relatime shared:20 - bpf bpf rw,mode=700',
  '42 30 0:41 / /run/cnilab/ab/bpf rw,relatime shared:21 - bpf bpf rw,mode=700',
  '43 30 0:42 / /run/with\\040space rw - tmpfs tmpfs rw',
].join('\n');

test('mountinfo: path and type of each mount, escapes undone', () => {
  const m = parseMountinfo(INFO);
  assert.equal(m.length, 5);
  assert.deepEqual(m[2], { path: '/run/cnilab/a/bpf', fsType: 'bpf' });
  assert.equal(m[4]!.path, '/run/with space');
});

test("mounts under a lab's folder: its own only (not a lab whose name it begins), deepest first", () => {
  assert.deepEqual(mountsUnder('/run/cnilab/a', INFO), [{ path: '/run/cnilab/a/bpf', fsType: 'bpf' }]);
  assert.deepEqual(
    mountsUnder('/run/cnilab', INFO).map((m) => m.path),
    ['/run/cnilab/ab/bpf', '/run/cnilab/a/bpf'],
  );
  assert.deepEqual(mountsUnder('/run/cnilab/none', INFO), []);
});

test('the mount a path is on: the deepest that holds it', () => {
  assert.equal(mountOf('/run/cnilab/a/bpf/node1/progs', INFO)?.fsType, 'bpf');
  assert.equal(mountOf('/run/cnilab/a', INFO)?.path, '/run');
  assert.equal(mountOf('/etc', INFO)?.path, '/');
});
