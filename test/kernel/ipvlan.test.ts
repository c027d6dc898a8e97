/**
 * The ipvlan architectures' labs for real (they need the kernel's ipvlan module: skipped with the
 * reason without it, run by `npm run test:kernel`): pods attached through the `ipvlan` plugin carry
 * traffic within and across nodes — on one L2 segment (ipvlan, L2 mode) or routed by each node
 * (ipvlan-l3, host-gw routes) — and `down` leaves nothing.
 */
import { checkArchLab } from '../integration/arch-lab';
import { kernelTest } from '../integration/kernel';

for (const name of ['ipvlan', 'ipvlan-l3'])
  kernelTest(
    `${name}: pods attached through CNI carry traffic on every supported path; down leaves nothing`,
    ['ipvlan'],
    () => checkArchLab(name, `t-ipv-${name}`),
  );
