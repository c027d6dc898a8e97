/**
 * Bad input straight to the plugin executables, cnilab's and the reference's (/usr/lib/cni), each in
 * a lab namespace of its own: both must refuse it with an error JSON and no stack trace; where the
 * reference names a spec code, cnilab's is the same.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { addNetns, deleteNetns } from '../../src/lib/netns';
import { CNI_BIN_DIR } from '../../src/lib/paths';
import { nodeNetns } from '../../src/lab/names';
import { teardownLab } from '../../src/lab/teardown';
import { assertNothingLeft, rootSnapshot, type RootSnapshot, linkNames } from './helpers';
import { execPlugin } from './plugin-exec';

const LAB = 't-cnib';
const REFERENCE_DIR = '/usr/lib/cni';
type Impl = 'ours' | 'ref';
const IMPLS: Impl[] = ['ours', 'ref'];
let root: RootSnapshot;

before(async () => {
  root = await rootSnapshot();
  await teardownLab(LAB);
});

after(async () => {
  await teardownLab(LAB);
  await assertNothingLeft(LAB, root);
});

/**
 * Bad input straight to the executables: both must fail with an error JSON; where the reference names
 * a spec code, ours is the same. Each implementation runs in a namespace of its own that the test
 * made: the reference bridge creates its bridge (`cni0`) in the namespace it runs in before it opens
 * the container's, so given a namespace that does not exist it leaves that bridge behind — cnilab's
 * checks the namespace first and leaves nothing, which is asserted after the table.
 */
const BAD: [string, Record<string, string>, string][] = [
  ['truncated JSON', {}, '{"cniVersion":'],
  ['unknown command', { CNI_COMMAND: 'FROB' }, '{"cniVersion":"1.0.0","name":"n","type":"bridge"}'],
  ['container ID with a slash', { CNI_CONTAINERID: 'a/b' }, '{"cniVersion":"1.0.0","name":"n","type":"bridge"}'],
  ['interface name too long', { CNI_IFNAME: 'abcdefghijklmnopq' }, '{"cniVersion":"1.0.0","name":"n","type":"bridge"}'],
  ['no container ID', { CNI_CONTAINERID: '' }, '{"cniVersion":"1.0.0","name":"n","type":"bridge"}'],
  ['unknown version', {}, '{"cniVersion":"9.0.0","name":"n","type":"bridge"}'],
  [
    'CHECK in 0.3.1',
    { CNI_COMMAND: 'CHECK' },
    '{"cniVersion":"0.3.1","name":"n","type":"bridge","prevResult":{"cniVersion":"0.3.1"}}',
  ],
  [
    'netns that does not exist',
    {},
    '{"cniVersion":"1.0.0","name":"n","type":"bridge","ipam":{"type":"static","addresses":[{"address":"10.1.1.1/24"}]}}',
  ],
  ['MTU of the wrong type', {}, '{"cniVersion":"1.0.0","name":"n","type":"bridge","mtu":"big"}'],
  [
    'IPAM subnet that is no CIDR',
    {},
    '{"cniVersion":"1.0.0","name":"n","type":"bridge","ipam":{"type":"host-local","subnet":"10.1.0.0/40"}}',
  ],
];
const badHost = (impl: Impl): string => nodeNetns(LAB, `bad-${impl}`);
describe('bad input, both implementations refuse it', () => {
  before(async () => {
    for (const impl of IMPLS) await addNetns(badHost(impl));
  });
  after(async () => {
    assert.deepEqual(await linkNames(badHost('ours')), ['lo'], "cnilab's bridge made nothing for input it refused");
    for (const impl of IMPLS) await deleteNetns(badHost(impl));
  });
  for (const [name, env, stdin] of BAD) {
    test(name, async () => {
      const codes: Record<Impl, number> = { ours: 0, ref: 0 };
      for (const impl of IMPLS) {
        const dir = impl === 'ours' ? CNI_BIN_DIR : REFERENCE_DIR;
        const e = {
          CNI_COMMAND: 'ADD',
          CNI_CONTAINERID: 'bad1',
          CNI_NETNS: '/run/netns/cnilab-t-cnib.nosuch',
          CNI_IFNAME: 'eth0',
          CNI_PATH: dir,
          ...env,
        };
        const r = await execPlugin(badHost(impl), join(dir, 'bridge'), e, stdin);
        assert.notEqual(r.code, 0, `${impl} must fail`);
        const body = JSON.parse(r.stdout) as { code: number; msg: string };
        assert.equal(typeof body.msg, 'string');
        assert.doesNotMatch(r.stdout + r.stderr, /\n\s+at /, 'no stack trace');
        codes[impl] = body.code;
      }
      if (codes.ref !== 999) assert.equal(codes.ours, codes.ref, `the reference says ${codes.ref}`);
      else
        assert.ok(
          codes.ours < 100 || codes.ours === 100,
          `where the reference says 999 (generic), cnilab names a spec code: ${codes.ours}`,
        );
    });
  }
});
