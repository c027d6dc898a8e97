/**
 * Conformance with the reference plugins (the harness: test/integration/conformance.ts) of the
 * plugins that need kernel modules this host may lack: vlan (8021q). On such a host each case
 * skips with the reason; `npm run test:kernel` runs them in a VM on Debian's stock kernel.
 */
import { conformanceSuite, hl, type Case } from '../integration/conformance';

const CASES: Case[] = [
  {
    name: 'vlan: an 802.1Q sub-interface of the master',
    plugin: (dir) => ({ type: 'vlan', master: 'up0', vlanId: 100, ipam: hl(dir, { subnet: '10.80.9.0/24' }) }),
    modules: ['8021q'],
  },
  {
    name: 'vlan: its own MTU below the master, IPAM routes',
    plugin: (dir) => ({
      type: 'vlan',
      master: 'up0',
      vlanId: 4094,
      mtu: 1400,
      ipam: hl(dir, { subnet: '10.80.14.0/24', routes: [{ dst: '10.92.0.0/16', gw: '10.80.14.254' }] }),
    }),
    modules: ['8021q'],
  },
];

conformanceSuite('t-cnik', CASES);
