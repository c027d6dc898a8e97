/**
 * Conformance with the reference plugins (the harness: test/integration/conformance.ts) of the
 * plugins that need kernel modules this host may lack: vlan (8021q), ipvlan. On such a host each case
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
      ipam: hl(dir, { subnet: '10.80.17.0/24', routes: [{ dst: '10.93.0.0/16', gw: '10.80.17.254' }] }),
    }),
    modules: ['8021q'],
  },
  {
    name: "ipvlan: l2 mode on the master, the master's MTU and MAC",
    plugin: (dir) => ({
      type: 'ipvlan',
      master: 'up0',
      mode: 'l2',
      ipam: hl(dir, { subnet: '10.80.14.0/24', routes: [{ dst: '10.92.0.0/16', gw: '10.80.14.254' }] }),
    }),
    modules: ['ipvlan'],
  },
  {
    name: "ipvlan: l3 mode, MTU below the master's",
    plugin: (dir) => ({
      type: 'ipvlan',
      master: 'up0',
      mode: 'l3',
      mtu: 1400,
      ipam: hl(dir, { subnet: '10.80.15.0/24', routes: [{ dst: '0.0.0.0/0', gw: '10.80.15.1' }] }),
    }),
    modules: ['ipvlan'],
  },
];

conformanceSuite('t-cnik', CASES);
