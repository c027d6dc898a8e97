/**
 * Conformance with the reference plugins (the harness: test/integration/conformance.ts) of the
 * plugins that need kernel modules this host may lack: vlan (8021q), ipvlan — in IPv4 and IPv6. On such a host each case
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
  // IPv6, mirrored from the host suite's macvlan cases (IPv6 only; dual stack)
  {
    name: 'vlan, IPv6 only: host-local on a /64',
    plugin: (dir) => ({
      type: 'vlan',
      master: 'up0',
      vlanId: 101,
      ipam: hl(dir, {
        ranges: [[{ subnet: 'fd00:80:9::/64', rangeStart: 'fd00:80:9::100' }]],
        routes: [{ dst: 'fd00:99::/48', gw: 'fd00:80:9::1' }],
      }),
    }),
    modules: ['8021q'],
  },
  {
    name: 'ipvlan, dual stack: l2 mode, an address and a route per family',
    plugin: (dir) => ({
      type: 'ipvlan',
      master: 'up0',
      mode: 'l2',
      ipam: hl(dir, {
        ranges: [[{ subnet: '10.80.19.0/24' }], [{ subnet: 'fd00:80:14::/64' }]],
        routes: [
          { dst: '10.92.0.0/16', gw: '10.80.19.254' },
          { dst: 'fd00:92::/48', gw: 'fd00:80:14::fe' },
        ],
      }),
    }),
    modules: ['ipvlan'],
  },
];

conformanceSuite('t-cnik', CASES);
