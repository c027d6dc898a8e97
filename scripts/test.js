#!/usr/bin/env node
// Runs every compiled *.test.js under dist/ with node's test runner, one file at a time (the
// integration tests build labs in the one kernel this machine has). Helpers beside the tests are
// not tests: naming the files keeps node --test from running them.
//
// The suite runs inside a fresh network namespace made for it (its `lo` up), entered with
// `nsenter --net` so that `ip netns add` and the labs work as on the host: every run starts as on
// a fresh machine whatever earlier runs left, and nothing a test does can reach the host's root
// namespace. Before and after, the runner compares the links, addresses and routes of that
// namespace and of the real root namespace; any difference fails the run.
//   npm test                       the suite, isolated as above
//   npm test -- --host-netns       in the namespace npm runs in (no isolation, no comparison)
//   npm test -- cni-faults kuryr   only the test files whose path holds one of these words
//   npm test -- --OPTION=VALUE     any other option goes to node --test (e.g. --test-name-pattern=fuzzer)
//   node scripts/test.js --kernel  the kernel tier: the tests of what needs kernel modules this
//                                  host may lack, or changes with the kernel (npm run test:kernel
//                                  runs it in a VM on each of Debian's kernels 6.1 and 6.12,
//                                  scripts/test-kernel.sh); a missing module fails them there
//                                  instead of skipping them (CNILAB_KERNEL_TIER=1), and each test
//                                  may take 20 minutes (the VM is 15–60× slower than a host; its
//                                  own --timeout bounds the whole tier)
//   node scripts/test.js --kernel-subset   the part of the tier that changes from kernel to kernel:
//                                  its files whose names hold a word of KERNEL_SUBSET (eBPF's
//                                  verifier and helpers, the kernel's WireGuard, what doctor finds,
//                                  netkit, the eBPF policy design). npm run test:kernel runs the
//                                  whole tier on 6.1 and this on 6.12: both whole would pass the
//                                  tier's 30-minute budget (scripts/test-kernel.sh, docs/kernel-vm.md)
//   node scripts/test.js --kernel ebpf netkit   the tier's files whose path holds one of the words
'use strict';
const { execFileSync, spawn } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.join(__dirname, '..', 'dist');
const args = process.argv.slice(2);
const hostNetns = args.includes('--host-netns');
const kernelSubset = args.includes('--kernel-subset');
const kernelTier = kernelSubset || args.includes('--kernel');
const ours = ['--host-netns', '--kernel', '--kernel-subset'];
const testArgs = args.filter((a) => a.startsWith('-') && !ours.includes(a));
const only = args.filter((a) => !a.startsWith('-')).map((a) => a.replace(/\.ts$/, '.js'));

function testFiles() {
  const files = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith('.test.js')) files.push(p);
    }
  };
  walk(root);
  const tier = kernelSubset ? files.filter(inKernelSubset) : kernelTier ? files.filter(inKernelTier) : files;
  const chosen = only.length === 0 ? tier : tier.filter((f) => only.some((w) => f.includes(w)));
  if (chosen.length === 0) throw new Error(`no test file matches ${only.join(', ')}`);
  return chosen.sort();
}

/**
 * The kernel tier: every test under test/kernel/, and the integration tests whose paths change with
 * the kernel (Open vSwitch's kernel datapath; the eBPF data path's helpers and verifier on the
 * kernel users run, the eBPF Service proxy's among them).
 */
const KERNEL_TIER_ALSO = [
  'test/integration/kuryr.test.js',
  'test/integration/ebpf.test.js',
  'test/integration/ebpf-cni.test.js',
  'test/integration/proxy-ebpf.test.js',
  // the kernel's WireGuard, where the host runs wireguard-go
  'test/integration/encryption.test.js',
];
function inKernelTier(file) {
  const rel = path.relative(root, file);
  return rel.startsWith(`test${path.sep}kernel${path.sep}`) || KERNEL_TIER_ALSO.includes(rel.split(path.sep).join('/'));
}

/**
 * The kernel tier's files that change from one kernel to the next, by words in their file names (a
 * new netkit*.test.ts joins by its name): the eBPF data path, Service proxy and policy design on
 * the kernel's verifier and helpers; the kernel's WireGuard; the features `cnilab doctor` finds;
 * netkit. The other files' paths (OVS, 802.1Q, ipvlan, netem, IPVS, ESP) take the same modules
 * on either kernel.
 */
const KERNEL_SUBSET = ['ebpf', 'encryption', 'doctor', 'netkit', 'policy'];
function inKernelSubset(file) {
  return inKernelTier(file) && KERNEL_SUBSET.some((w) => path.basename(file).includes(w));
}

/** Labs on this machine: namespaces named cnilab-LAB.… and folders under /run/cnilab (src/lab/names.ts). */
function labs() {
  const out = new Set();
  for (const line of execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' }).split('\n')) {
    const m = /^cnilab-([^.\s]+)/.exec(line);
    if (m) out.add(m[1]);
  }
  const runRoot = process.env.CNILAB_RUN_ROOT ?? '/run/cnilab';
  if (fs.existsSync(runRoot)) for (const d of fs.readdirSync(runRoot)) out.add(d);
  return [...out].sort();
}

/** Runs `command` with this terminal; Ctrl-C reaches it (same process group) and this runner waits for its end. */
function runInherit(command, argv, env) {
  return new Promise((resolve) => {
    const child = spawn(command, argv, { stdio: 'inherit', env });
    const ignore = () => undefined; // the child gets the signal too and ends; cleaning up is ours after it
    process.on('SIGINT', ignore);
    process.on('SIGTERM', ignore);
    child.on('close', (code, signal) => {
      process.off('SIGINT', ignore);
      process.off('SIGTERM', ignore);
      resolve(code ?? (signal ? 128 : 1));
    });
  });
}

// A test that takes longer than 3 minutes has hung (20 in the kernel tier's VM), bar the deep
// fuzzer (npm run fuzz gives its own).
const fileTimeoutMs = kernelTier ? 1_200_000 : 180_000;
const timeout = testArgs.some((a) => a.startsWith('--test-timeout')) ? [] : [`--test-timeout=${fileTimeoutMs}`];
if (kernelTier) process.env.CNILAB_KERNEL_TIER = '1';
const nodeTest = () => [process.execPath, ['--test', '--test-concurrency=1', ...timeout, ...testArgs, ...testFiles()]];

async function main() {
  const os = require('node:os');
  const tierName = kernelSubset
    ? `, kernel tier: the files named ${KERNEL_SUBSET.join(', ')}`
    : kernelTier
      ? ', kernel tier'
      : '';
  process.stderr.write(`test: kernel ${os.release()} (${os.version()})${tierName}\n`);
  if (hostNetns || process.env.CNILAB_TEST_NETNS) {
    const [cmd, argv] = nodeTest();
    return runInherit(cmd, argv, process.env);
  }
  if (process.getuid?.() !== 0) {
    process.stderr.write('test: the suite builds network namespaces and needs root: sudo npm test\n');
    return 1;
  }
  const { snapshotNetns, diffSnapshots } = require(path.join(root, 'test/netns-snapshot.js'));
  const ns = `cnitest-${process.pid}`; // not cnilab-…: `cnilab down --all`, run by a test, removes those
  const rootBefore = snapshotNetns();
  const labsBefore = labs();
  execFileSync('ip', ['netns', 'add', ns]);
  let code;
  try {
    execFileSync('ip', ['-n', ns, 'link', 'set', 'lo', 'up']);
    const nsBefore = snapshotNetns(ns);
    process.stderr.write(
      `test: the suite runs in a fresh network namespace, ${ns}; it and the root namespace are compared after it\n`,
    );
    const [cmd, argv] = nodeTest();
    code = await runInherit('nsenter', [`--net=/run/netns/${ns}`, cmd, ...argv], {
      ...process.env,
      CNILAB_TEST_NETNS: ns,
    });
    const changes = [
      ...diffSnapshots(nsBefore, snapshotNetns(ns)).map((d) => `test namespace: ${d}`),
      ...diffSnapshots(rootBefore, snapshotNetns()).map((d) => `root namespace: ${d}`),
    ];
    // A test file killed by its timeout runs no after-hook: its lab is reported, then removed.
    const left = labs().filter((l) => !labsBefore.includes(l));
    for (const lab of left) {
      try {
        execFileSync(process.execPath, [path.join(root, 'src/cli/main.js'), 'down', '--lab', lab], { stdio: 'ignore' });
        changes.push(`lab left behind: ${lab} (removed now)`);
      } catch {
        changes.push(`lab left behind: ${lab} (removing it failed: cnilab down --lab ${lab})`);
      }
    }
    if (changes.length > 0) {
      process.stderr.write(
        `test: FAILED: the suite changed network state it must leave alone:\n` +
          `${changes.map((c) => `  ${c}\n`).join('')}`,
      );
      code = code || 1;
    } else process.stderr.write(`test: the test namespace and the root namespace are as they were before the suite\n`);
  } finally {
    execFileSync('ip', ['netns', 'delete', ns]);
  }
  return code ?? 1;
}

main().then(
  (code) => process.exit(code),
  (e) => {
    process.stderr.write(`test: ${e.message}\n`);
    process.exit(1);
  },
);
