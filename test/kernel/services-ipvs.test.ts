/**
 * The ipvs proxy mode where the kernel has IPVS (the kernel tier; on a host without ip_vs, skipped
 * naming the module): kube-proxy's IPVS proxier on flannel-vxlan passes the checks every mode
 * passes on the host (services-check.ts), and `down` leaves nothing (withLab asserts it).
 */
import { withLab } from '../integration/helpers';
import { kernelTest } from '../integration/kernel';
import { correctness, topology } from '../integration/services-check';

kernelTest(
  'ipvs on flannel-vxlan: spread, a removed endpoint, no endpoints refused, the source seen, partial syncs',
  ['ip_vs'],
  () => withLab('t-kl-svc-ipvs', 'flannel-vxlan', (s) => correctness(s, 'ipvs'), topology('ipvs')),
);
