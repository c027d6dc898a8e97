/**
 * The eBPF build step and the layouts the TypeScript side shares with the C side: the object
 * scripts/build-bpf.js wrote has the programs in the section the loader expects, and its BTF
 * describes the map values exactly as src/cni/plugins/ebpf/maps.ts encodes them. Skipped, with
 * the build's own reason, where it could not build (CNILAB_REQUIRE_EBPF=1 fails instead).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BPF_OBJECT, REPO_ROOT } from '../lib/paths';
import { cEnumMembers, objectBtf, objectSymbols, sectionOf } from '../lib/bpf-object';
import { ACTIONS, COUNTER_SIZE, ENDPOINT_SIZE, KEY6_SIZE, PROGRAMS } from '../cni/plugins/ebpf/maps';
import { buildProblem, verifierReason } from './load';
import { CT_ENTRY_SIZE, CT_KEY_SIZE, IPCACHE_KEY_SIZE, POLICY_EP_SIZE, POLICY_KEY_SIZE } from './policy/maps';

const SOURCE = join(REPO_ROOT, 'src/ebpf/bpf/datapath.c');
const problem = buildProblem();
const skip = problem && process.env.CNILAB_REQUIRE_EBPF !== '1' ? problem : false;

test('the build: an object whose programs are in section "tc" and whose maps are in ".maps"', { skip }, async () => {
  assert.equal(problem, undefined, `the eBPF object did not build: ${problem}`);
  const syms = await objectSymbols(BPF_OBJECT);
  for (const p of PROGRAMS) assert.equal(sectionOf(syms, p), 'tc', `program ${p}`);
  for (const m of ['endpoints', 'endpoints6', 'counters', 'policy_eps', 'ipcache', 'policy', 'ct'])
    assert.equal(sectionOf(syms, m), '.maps', m);
  assert.ok(
    syms.some((x) => x.section === 'license'),
    'a license section',
  );
});

test("the map values' layouts, from the object's BTF, are the ones maps.ts encodes", { skip }, async () => {
  const btf = await objectBtf(BPF_OBJECT);
  assert.deepEqual(btf.struct('endpoint'), [
    ENDPOINT_SIZE,
    [
      ['ifindex', 0],
      ['mac', 4],
      ['node_mac', 10],
    ],
  ]);
  assert.deepEqual(btf.struct('counter'), [
    COUNTER_SIZE,
    [
      ['packets', 0],
      ['bytes', 8],
    ],
  ]);
  // endpoints6's key: struct in6_addr, the 16 bytes encodeKey6 writes
  assert.equal(btf.struct('in6_addr')[0], KEY6_SIZE);
  assert.deepEqual(btf.functions, [...PROGRAMS]);
});

test("the policy maps' layouts, from the object's BTF, are the ones policy/maps.ts encodes", { skip }, async () => {
  const btf = await objectBtf(BPF_OBJECT);
  const at = (...m: [string, number][]): [string, number][] => m;
  assert.deepEqual(btf.struct('policy_ep'), [POLICY_EP_SIZE, at(['ingress', 0], ['egress', 1], ['pad', 2])]);
  assert.deepEqual(btf.struct('ipcache_key'), [IPCACHE_KEY_SIZE, at(['prefixlen', 0], ['addr', 4])]);
  assert.deepEqual(btf.struct('policy_key'), [
    POLICY_KEY_SIZE,
    at(['prefixlen', 0], ['endpoint', 4], ['identity', 8], ['direction', 12], ['protocol', 13], ['dport', 14]),
  ]);
  assert.deepEqual(btf.struct('ct_key'), [
    CT_KEY_SIZE,
    at(
      ['saddr', 0],
      ['daddr', 4],
      ['sport', 8],
      ['dport', 10],
      ['protocol', 12],
      ['direction', 13],
      ['pad', 14],
      ['endpoint', 16],
    ),
  ]);
  assert.deepEqual(btf.struct('ct_entry'), [CT_ENTRY_SIZE, at(['created', 0])]);
});

test("the counters' key: the C enums list the programs and actions in maps.ts's order", () => {
  assert.ok(existsSync(SOURCE));
  assert.deepEqual(cEnumMembers(SOURCE, 'program'), [...PROGRAMS, 'programs']);
  assert.deepEqual(cEnumMembers(SOURCE, 'action'), [...ACTIONS, 'actions']);
});

test("the verifier's one line: its last complaint and the program, else libbpf's or bpftool's error", () => {
  const log = [
    "libbpf: prog 'from_pod': BPF program load failed: Permission denied",
    "libbpf: prog 'from_pod': -- BEGIN PROG LOAD LOG --",
    '0: R1=ctx(off=0,imm=0) R10=fp0',
    '; int from_pod(struct __sk_buff *skb)',
    '12: (61) r2 = *(u32 *)(r1 +76)',
    'invalid access to packet, off=34 size=1, R1(id=0,off=34,r=0)',
    'processed 13 insns (limit 1000000) max_states_per_insn 0 total_states 1 peak_states 1 mark_read 1',
    '-- END PROG LOAD LOG --',
    "libbpf: failed to load program 'from_pod'",
    'Error: failed to load object file',
  ].join('\n');
  assert.equal(
    verifierReason(log),
    'the verifier rejected program from_pod: invalid access to packet, off=34 size=1, R1(id=0,off=34,r=0)',
  );
  assert.equal(
    verifierReason(
      "libbpf: prog 'from_pod': BPF program load failed: Invalid argument\nError: failed to load object file",
    ),
    'program from_pod did not load: Invalid argument',
  );
  assert.equal(
    verifierReason('libbpf: failed to find BTF for extern helper\nError: failed to open object file'),
    'failed to find BTF for extern helper',
  );
  assert.equal(verifierReason(''), 'bpftool failed without saying why');
});
