/**
 * The ipvlan kinds in IPv6 (docs/ipv6.md), where the ipvlan module is: ipvlan (L2 mode, pods on the
 * segment answering neighbour solicitations themselves) and ipvlan-l3 (no neighbour discovery on
 * the device; host-gw routes each peer's IPv6 subnet via its IPv6 underlay address). IPv6-only
 * labs: no pod has IPv4, and pods reach each other on a node and across nodes.
 */
import { test } from 'node:test';
import { kernelSkip } from '../integration/kernel';
import { ipv6OnlyLab } from '../integration/ipv6-lab';

for (const arch of ['ipvlan', 'ipvlan-l3'])
  test(`${arch}, IPv6 only: pods reach each other on a node and across nodes, no pod has IPv4`, async (t) => {
    const skip = kernelSkip(['ipvlan']);
    if (skip) return t.skip(skip);
    await ipv6OnlyLab(arch);
  });
