/**
 * Labs of the architectures whose data path a stock kernel takes differently, for real: pods
 * attached through CNI carry traffic within and across nodes, and `down` leaves nothing.
 * - ipvlan (L2 mode, one segment) and ipvlan-l3 (each node routes its pods; host-gw routes): they
 *   need the ipvlan module, so they skip with the reason where it is missing and run in the kernel
 *   tier (`npm run test:kernel`);
 * - macvlan, in the kernel tier only (the host suite's lab.test.ts has it): Debian 12's 6.1 kernel
 *   refuses a macvlan named as its master in another namespace, which the plugins' temporary name
 *   works around — this proves it there.
 */
import { checkArchLab } from '../integration/arch-lab';
import { KERNEL_TIER, kernelTest } from '../integration/kernel';

for (const [name, modules] of [
  ...(KERNEL_TIER ? [['macvlan', ['macvlan']] as const] : []),
  ['ipvlan', ['ipvlan']],
  ['ipvlan-l3', ['ipvlan']],
] as const)
  kernelTest(
    `${name}: pods attached through CNI carry traffic on every supported path; down leaves nothing`,
    modules,
    () => checkArchLab(name, `t-kl-${name}`),
  );
