/**
 * scripts/kernel-vm.sh, the kernel tier's VM: it says what to install or fetch when it cannot start
 * a VM, refuses an unknown kernel series, returns the command's exit code with its output, and a
 * timeout or Ctrl-C leaves no qemu and no job folder behind; `--kernel 6.12` boots that series.
 * The tests that boot a VM skip, with the reason, where the kernel has not been fetched
 * (scripts/setup.sh --kernel-vm; CI does it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/lib/paths';

const SCRIPT = join(REPO_ROOT, 'scripts/kernel-vm.sh');
/** False where a VM on this kernel series can start here, else why not. */
function vmSkipFor(series: string): string | false {
  const r = spawnSync(SCRIPT, ['--kernel', series, 'check'], { encoding: 'utf8' });
  return r.status === 0 ? false : `no VM on ${series} here: ${r.stderr.trim()}`;
}
const vmSkip = vmSkipFor('6.1');

/** The qemu processes on this machine, by PID. */
function qemus(): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .filter((pid) => {
      try {
        return readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'qemu-system-x86';
      } catch {
        return false;
      }
    })
    .map(Number);
}

const jobFolders = (): string[] => readdirSync('/tmp').filter((f) => f.startsWith('cnilab-kernel-vm.'));

interface VmRun {
  readonly code: number | null;
  readonly out: string;
}

/** Runs the script; `onLine` sees its output as it comes and may signal it. */
function vm(args: readonly string[], onOutput?: (out: string, pid: number) => void): Promise<VmRun> {
  return new Promise((resolve) => {
    const child = spawn(SCRIPT, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    const take = (d: Buffer): void => {
      out += d.toString();
      onOutput?.(out, child.pid!);
    };
    child.stdout.on('data', take);
    child.stderr.on('data', take);
    child.on('close', (code) => resolve({ code, out }));
  });
}

test('without qemu or the kernel it says what to install and exits non-zero', () => {
  const empty = mkdtempSync(join(tmpdir(), 'cnilab-novm-'));
  try {
    const r = spawnSync(SCRIPT, ['check'], {
      encoding: 'utf8',
      env: { ...process.env, CNILAB_KERNEL_VM_CACHE: empty },
    });
    assert.equal(r.status, 2);
    assert.match(
      r.stderr,
      /kernel-vm: (kernel 6\.1 is not fetched: run scripts\/kernel-vm\.sh --kernel 6\.1 fetch \(or scripts\/setup\.sh --kernel-vm\)|missing .*run scripts\/setup\.sh --kernel-vm)/,
    );
    const bad = spawnSync(SCRIPT, ['--frobnicate', '--', 'true'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option --frobnicate/);
  } finally {
    rmSync(empty, { recursive: true });
  }
});

/** Runs the script synchronously and says what it left: new qemus, new job folders. */
function refused(args: readonly string[], env: NodeJS.ProcessEnv = process.env) {
  const before = { qemus: qemus(), jobs: jobFolders() };
  const r = spawnSync(SCRIPT, args, { encoding: 'utf8', env });
  return {
    status: r.status,
    stderr: r.stderr,
    left: [
      ...qemus().filter((p) => !before.qemus.includes(p)),
      ...jobFolders().filter((f) => !before.jobs.includes(f)),
    ],
  };
}

test('an unknown --kernel is refused in one line, for every verb, with nothing made', () => {
  for (const args of [
    ['--kernel', '5.10', 'check'],
    ['--kernel', '5.10', 'fetch'],
    ['--kernel', '5.10', 'version'],
    ['--kernel', '5.10', '--timeout', '60', '--', 'true'],
    ['--timeout', '60', '--kernel', '5.10', '--', 'true'],
  ]) {
    const r = refused(args);
    assert.equal(r.status, 2, args.join(' '));
    assert.equal(r.stderr, 'kernel-vm: --kernel 5.10: unknown; known: 6.1, 6.12\n', args.join(' '));
    assert.deepEqual(r.left, [], `${args.join(' ')}: no qemu, no job folder`);
  }
});

test('a kernel not fetched is refused in one line saying how to fetch it, with nothing made', () => {
  const empty = mkdtempSync(join(tmpdir(), 'cnilab-novm-'));
  try {
    const env = { ...process.env, CNILAB_KERNEL_VM_CACHE: empty };
    for (const args of [
      ['--kernel', '6.12', 'version'],
      ['--kernel', '6.12', '--', 'true'],
      ['--', 'true'],
    ]) {
      const series = args[1] === '6.12' ? '6.12' : '6.1';
      const r = refused(args, env);
      assert.equal(r.status, 2, args.join(' '));
      assert.equal(
        r.stderr,
        `kernel-vm: kernel ${series} is not fetched: run scripts/kernel-vm.sh --kernel ${series} fetch ` +
          '(or scripts/setup.sh --kernel-vm), as root\n',
        args.join(' '),
      );
      assert.deepEqual(r.left, [], `${args.join(' ')}: no qemu, no job folder`);
    }
    assert.deepEqual(readdirSync(empty), [], 'nothing written to the cache');
  } finally {
    rmSync(empty, { recursive: true });
  }
});

test(
  "a command in the VM: the guest's kernel, its output streamed, its exit code returned; --share writes back",
  { skip: vmSkip },
  async () => {
    const share = mkdtempSync(join(tmpdir(), 'cnilab-vmshare-'));
    try {
      const r = await vm([
        '--share',
        share,
        '--',
        'bash',
        '-c',
        `modprobe 8021q && echo "in the guest: $(uname -r)" && echo written > ${share}/back && exit 7`,
      ]);
      assert.equal(r.code, 7, r.out);
      assert.match(r.out, /kernel-vm: Debian kernel \S+ \(\S+\)/);
      assert.match(r.out, /in the guest: \S+-amd64/);
      assert.equal(readFileSync(join(share, 'back'), 'utf8'), 'written\n');
    } finally {
      rmSync(share, { recursive: true });
    }
  },
);

test('a timeout and a Ctrl-C stop the VM: no qemu, no job folder left', { skip: vmSkip }, async () => {
  const before = { qemus: qemus(), jobs: jobFolders() };
  const timedOut = await vm(['--timeout', '2', '--', 'sleep', '600']);
  assert.equal(timedOut.code, 124, timedOut.out);
  assert.match(timedOut.out, /timed out after 2s/);
  let signalled = false;
  const interrupted = await vm(['--timeout', '120', '--', 'sleep', '600'], (out, pid) => {
    // Ctrl-C once the guest runs the command: the event, not a time.
    if (!signalled && out.includes('running: sleep 600')) {
      signalled = true;
      process.kill(pid, 'SIGINT');
    }
  });
  assert.equal(interrupted.code, 130, interrupted.out);
  assert.deepEqual(
    qemus().filter((p) => !before.qemus.includes(p)),
    [],
    'no qemu left',
  );
  assert.deepEqual(
    jobFolders().filter((f) => !before.jobs.includes(f)),
    [],
    'no job folder left',
  );
});

test('--kernel 6.12 boots that series: its uname -r, netkit built in', { skip: vmSkipFor('6.12') }, async () => {
  // iproute2 6.1 cannot make a netkit device; the kernel's own symbols show the driver is there.
  const r = await vm([
    '--kernel',
    '6.12',
    '--timeout',
    '300',
    '--',
    'bash',
    '-c',
    'echo "in the guest: $(uname -r)"; grep -m1 -o " netkit_[a-z_]*" /proc/kallsyms',
  ]);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /kernel-vm: Debian kernel 6\.12\.\S+ \(\S+\), series 6\.12/);
  assert.match(r.out, /in the guest: 6\.12\.\S+-amd64/);
  assert.match(r.out, / netkit_\w+/);
});
