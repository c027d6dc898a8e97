/**
 * The IP-in-IP mode's device and overhead, shared by the agent (which makes it) and the control plane (the pods'
 * MTU).
 */

/** The fallback IP-in-IP device the kernel makes in every namespace when `ipip` loads; Calico uses it. */
export const CALICO_IPIP_DEV = 'tunl0';
/** The outer IPv4 header an IP-in-IP packet carries. */
export const IPIP_OVERHEAD = 20;
