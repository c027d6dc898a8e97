/**
 * The lab contract (test/integration/arch-contract.ts) in the kernel tier, for the architectures
 * whose data path a stock kernel takes differently — those requiring ipvlan or macvlan:
 * - ipvlan (L2 mode, one segment) and ipvlan-l3 (each node routes its pods; host-gw routes) need the
 *   ipvlan module, which a host may lack (there the host suite's contract skips them, saying so);
 * - macvlan: Debian 12's 6.1 kernel refuses a macvlan named as its master in another namespace,
 *   which the plugins' temporary name works around — this proves it there.
 * In the tier a missing feature fails them. Outside it, arch-contract.test.ts runs every kind.
 */
import { test } from 'node:test';
import { archContract } from '../integration/arch-contract';
import { KERNEL_TIER } from '../integration/kernel';

const KERNEL_DIFFERS = ['ipvlan', 'macvlan'];

if (KERNEL_TIER)
  archContract('t-kl', { only: (a) => a.requires.some((f) => KERNEL_DIFFERS.includes(f)), mustRun: true });
else
  test('the kernel tier runs the lab contract of ipvlan and macvlan kinds on its kernel', (t) =>
    t.skip('outside the kernel tier: test/integration/arch-contract.test.ts runs every architecture'));
