/**
 * Device types a kernel may lack (802.1Q for `vlan`, ipvlan for `ipvlan`): whether it has the
 * driver, and the error 50 a plugin answers without it — on STATUS, and on ADD when the kernel
 * refuses to create the device.
 */
import { existsSync } from 'node:fs';
import { isCnilabError } from '../../../lib/errors';
import { run } from '../../../lib/exec';
import { kernelBatch } from '../../../lib/netlink/ip-lines';
import { CniCode, CniError } from '../../types';

export interface KernelDriver {
  /** The kernel module, e.g. `8021q`. */
  readonly module: string;
  /** What the kernel cannot make without it, e.g. "802.1Q VLAN devices". */
  readonly devices: string;
  /** Files whose presence shows the driver is in, besides /sys/module/MODULE (e.g. /proc/net/vlan). */
  readonly proof?: readonly string[];
}

/** The error 50 of a kernel without `d`. */
export function lacks(d: KernelDriver): CniError {
  return new CniError(
    CniCode.NOT_AVAILABLE,
    `this kernel has no ${d.devices} (module ${d.module} is not loaded and cannot be loaded)`,
  );
}

/** Whether the kernel has `d`: loaded or built in, or modprobe says it could load it. */
export async function kernelHas(d: KernelDriver): Promise<boolean> {
  if ([...(d.proof ?? []), `/sys/module/${d.module}`].some((p) => existsSync(p))) return true;
  const r = await run('modprobe', ['-n', '-q', d.module], { check: false }).catch(() => ({ code: 1 }));
  return r.code === 0;
}

/**
 * Runs the `ip link add` line of a device of `d` (over netlink, lib/netlink), turning the kernel's
 * "unknown type" (EOPNOTSUPP: no driver, none loadable; `ip`'s "Unknown device type") into error 50.
 */
export function createOrLacks(d: KernelDriver): (line: string[]) => Promise<void> {
  return async (line) => {
    try {
      await kernelBatch(undefined, [line]);
    } catch (e) {
      if (
        (isCnilabError(e, 'EXEC_FAILED') || isCnilabError(e, 'KERNEL_FAILED')) &&
        /Unknown device type|not supported/i.test(e.message)
      )
        throw lacks(d);
      throw e;
    }
  };
}
