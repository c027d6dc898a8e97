/**
 * Tests of what needs kernel modules this host may lack (Open vSwitch's kernel datapath, 802.1Q,
 * ipvlan, netem…). Where a module is missing they skip, saying which and where they run; in the
 * kernel tier (`npm run test:kernel`: a VM on Debian's stock kernel, CNILAB_KERNEL_TIER=1) a
 * missing module fails them instead, so that tier can never pass by skipping.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { release } from 'node:os';

/** True inside `npm run test:kernel`. */
export const KERNEL_TIER = process.env.CNILAB_KERNEL_TIER === '1';

/** Whether kernel module `name` is loaded, built in, or loadable. */
export function hasModule(name: string): boolean {
  return existsSync(`/sys/module/${name}`) || spawnSync('modprobe', ['-n', '-q', name]).status === 0;
}

/** Why a test needing `modules` cannot run on this kernel, or false when it can. */
export function missingModules(modules: readonly string[]): string | false {
  const missing = modules.filter((m) => !hasModule(m));
  return missing.length === 0
    ? false
    : `kernel ${release()} has no ${missing.join(', ')} module (npm run test:kernel runs this in a VM that has)`;
}

/**
 * The `skip` of a test needing kernel `modules`: the reason where they are missing; never in the kernel tier, where
 * it runs and fails.
 */
export function kernelSkip(modules: readonly string[]): string | false {
  return KERNEL_TIER ? false : missingModules(modules);
}

/** A test that needs kernel `modules`: skipped with the reason where they are missing, failed in the kernel tier. */
export function kernelTest(name: string, modules: readonly string[], fn: () => Promise<void>): void {
  const reason = missingModules(modules);
  if (reason && KERNEL_TIER) test(name, () => assert.fail(`the kernel tier's kernel must have them: ${reason}`));
  else test(name, { skip: reason }, fn);
}

/** In the kernel tier, fails unless `modules` are there (for tests that adapt to the kernel rather than skip). */
export function assertKernelTierHas(modules: readonly string[]): void {
  const reason = missingModules(modules);
  if (KERNEL_TIER && reason) assert.fail(`the kernel tier's kernel must have them: ${reason}`);
}

/**
 * Features the kernel under test must have beyond its modules, where a test would otherwise skip:
 * CNILAB_REQUIRE_FEATURES, comma-separated (the kernel tier's 6.12 run sets `netkit,big-tcp`; its 6.1
 * run, whose kernel has neither, sets none). A test of such a feature fails instead of skipping.
 */
export const REQUIRED_FEATURES: ReadonlySet<string> = new Set(
  (process.env.CNILAB_REQUIRE_FEATURES ?? '').split(',').filter(Boolean),
);

/** Features only kernels newer than the tier's oldest have (netkit: 6.7; BIG TCP for IPv4: 6.3). */
export const NEWER_KERNEL_FEATURES: readonly string[] = ['netkit', 'big-tcp'];
