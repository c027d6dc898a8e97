/**
 * Made-up proxy inputs: the unit tests' Services and the size script's thousands of them
 * (scripts/proxy-gen-size.ts). Addresses follow a lab's defaults: pods in 10.244.0.0/16,
 * Services in 10.96.0.0/16.
 */
import type { ProxyEndpoint, ProxyInput, ProxyService } from './model';

export const CLUSTER_CIDR = '10.244.0.0/16';
export const SERVICE_CIDR = '10.96.0.0/16';

/** An endpoint on node "n1", its pod named after its address. */
export const endpoint = (ip: string, port = 8080): ProxyEndpoint => ({ ip, port, node: 'n1', pod: `pod-${ip}` });

/** A TCP Service port `name` at `clusterIp`:80 with these endpoints. */
export const service = (
  name: string,
  clusterIp: string,
  endpoints: readonly ProxyEndpoint[],
  more: Partial<ProxyService> = {},
): ProxyService => ({ name, portName: 'http', clusterIp, port: 80, protocol: 'tcp', endpoints, ...more });

export const inputOf = (services: readonly ProxyService[]): ProxyInput => ({
  node: 'n1',
  clusterCidr: CLUSTER_CIDR,
  serviceCidr: SERVICE_CIDR,
  services: [...services].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
});

/** `count` Services of `perService` endpoints each: svc-00001 at 10.96.0.1, endpoints 10.244.x.y. */
export function manyServices(count: number, perService: number): ProxyInput {
  const services: ProxyService[] = [];
  for (let i = 1; i <= count; i++) {
    const eps = Array.from({ length: perService }, (_, k) => {
      const n = i * perService + k;
      return endpoint(`10.244.${(n >> 8) & 255}.${n & 255}`);
    });
    services.push(service(`svc-${String(i).padStart(5, '0')}`, `10.96.${i >> 8}.${i & 255}`, eps));
  }
  return inputOf(services);
}
