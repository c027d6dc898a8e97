/**
 * The proxy's object and the layouts shared with it: service.c built, every program in the section
 * its attach point needs, its BTF describing the structs exactly as maps.ts encodes them, and
 * those encodings round-tripping. Skipped with the build's reason where it could not build.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BPF_SERVICE_OBJECT, REPO_ROOT } from '../../lib/paths';
import { cEnumMembers, objectBtf, objectSymbols, sectionOf } from '../../lib/bpf-object';
import { serviceBuildProblem } from './load';
import {
  ACTIONS,
  decodeAddr,
  decodeBackendKey,
  decodeServiceKey,
  decodeServiceValue,
  encodeAddr,
  encodeBackendKey,
  encodeServiceKey,
  encodeServiceValue,
  MAPS,
  PROGRAMS,
} from './maps';

const SOURCE = join(REPO_ROOT, 'src/proxy/ebpf/bpf/service.c');
const problem = serviceBuildProblem();
const skip = problem && process.env.CNILAB_REQUIRE_EBPF !== '1' ? problem : false;

test('the build: programs in sections tc and cgroup/*, every map in .maps', { skip }, async () => {
  assert.equal(problem, undefined, `service.o did not build: ${problem}`);
  const syms = await objectSymbols(BPF_SERVICE_OBJECT);
  const section = (p: string): string => (p.startsWith('svc_') && /4$/.test(p) ? `cgroup/${p.slice(4)}` : 'tc');
  for (const p of PROGRAMS) assert.equal(sectionOf(syms, p), section(p), p);
  for (const m of MAPS) assert.equal(sectionOf(syms, m), '.maps', m);
});

test("the structs' layouts, from the object's BTF, are the ones maps.ts encodes", { skip }, async () => {
  const btf = await objectBtf(BPF_SERVICE_OBJECT);
  const layout = (name: string) => btf.struct(name);
  assert.deepEqual(layout('svc_key'), [
    8,
    [
      ['ip', 0],
      ['port', 4],
      ['proto', 6],
      ['pad', 7],
    ],
  ]);
  assert.deepEqual(layout('svc_value'), [
    12,
    [
      ['id', 0],
      ['count', 4],
      ['affinity_s', 8],
    ],
  ]);
  assert.deepEqual(layout('backend_key'), [
    8,
    [
      ['id', 0],
      ['slot', 4],
    ],
  ]);
  assert.deepEqual(layout('addr'), [
    8,
    [
      ['ip', 0],
      ['port', 4],
      ['pad', 6],
    ],
  ]);
  const funcs = btf.functions.filter((f) => f.startsWith('svc_'));
  assert.deepEqual(funcs.sort(), [...PROGRAMS].sort());
});

test("the counters' key: the C enums list the programs and actions in maps.ts's order", () => {
  assert.deepEqual(cEnumMembers(SOURCE, 'program'), [...PROGRAMS, 'programs']);
  assert.deepEqual(cEnumMembers(SOURCE, 'action'), [...ACTIONS, 'actions']);
});

test('the encodings: addresses and ports in network order, ids little-endian; each round-trips', () => {
  const key = { ip: '10.96.0.10', port: 53, protocol: 'udp' as const };
  const k = encodeServiceKey(key);
  assert.deepEqual([...k], [10, 96, 0, 10, 0, 53, 17, 0]);
  assert.deepEqual(decodeServiceKey(k), key);
  assert.deepEqual(decodeServiceKey(encodeServiceKey({ ...key, protocol: 'tcp', port: 8443 })), {
    ...key,
    protocol: 'tcp',
    port: 8443,
  });
  const value = { id: 0x01020304, count: 3, affinitySeconds: 10800 };
  const v = encodeServiceValue(value);
  assert.deepEqual([...v.subarray(0, 4)], [4, 3, 2, 1]);
  assert.deepEqual(decodeServiceValue(v), value);
  assert.deepEqual(decodeBackendKey(encodeBackendKey(7, 65535)), { id: 7, slot: 65535 });
  assert.deepEqual([...encodeBackendKey(7, 1)], [7, 0, 0, 0, 1, 0, 0, 0]);
  const a = encodeAddr({ ip: '10.244.1.3', port: 8080 });
  assert.deepEqual([...a], [10, 244, 1, 3, 0x1f, 0x90, 0, 0]);
  assert.deepEqual(decodeAddr(a), { ip: '10.244.1.3', port: 8080 });
  // into a batch buffer, at an offset
  const batch = new Uint8Array(16);
  encodeAddr({ ip: '1.2.3.4', port: 1 }, batch, 8);
  assert.deepEqual(decodeAddr(batch.subarray(8)), { ip: '1.2.3.4', port: 1 });
  assert.throws(() => decodeServiceKey(new Uint8Array([1, 2, 3, 4, 0, 1, 1, 0])), /neither TCP nor UDP/);
});
