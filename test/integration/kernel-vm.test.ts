/**
 * scripts/kernel-vm.sh, the kernel tier's VM: it says what to install when it cannot start a VM,
 * returns the command's exit code with its output, and a timeout or Ctrl-C leaves no qemu and no
 * job folder behind. The tests that boot a VM skip, with the reason, where the kernel has not been
 * fetched (scripts/setup.sh --kernel-vm; CI does it).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { REPO_ROOT } from '../../src/lib/paths';

const SCRIPT = join(REPO_ROOT, 'scripts/kernel-vm.sh');
const noVm = spawnSync(SCRIPT, ['check'], { encoding: 'utf8' });
const vmSkip = noVm.status === 0 ? false : `no VM here: ${noVm.stderr.trim()}`;

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
      /kernel-vm: (no kernel in .*run scripts\/setup\.sh --kernel-vm|missing .*run scripts\/setup\.sh --kernel-vm)/,
    );
    const bad = spawnSync(SCRIPT, ['--frobnicate', '--', 'true'], { encoding: 'utf8' });
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /unknown option --frobnicate/);
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
