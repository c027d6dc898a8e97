/** What VXLAN costs and where it listens, for every owner of a VXLAN device (flannel, Kuryr). */

/** Bytes VXLAN adds to a frame: outer IPv4 (20) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN_OVERHEAD = 50;

/** IANA's VXLAN UDP port, Neutron's default (flannel uses its own: FLANNEL_VXLAN_PORT). */
export const IANA_VXLAN_PORT = 4789;

/** Bytes VXLAN over IPv6 adds: outer IPv6 (40) + UDP (8) + VXLAN (8) + inner Ethernet (14). */
export const VXLAN6_OVERHEAD = 70;
