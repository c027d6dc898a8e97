/**
 * The API server as a controller service: pods and Services (store.ts) behind /api (api.ts),
 * mounted when --api-data is given. It is the core's, not a kind's: every lab's controller may
 * mount it, whatever its architecture.
 */
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { AdminGet, Attempt, ControllerService, MountedService, Trespass } from '../controller/service';
import { CnilabError } from '../lib/errors';
import type { Pod } from './model';
import { apiRules, handleApi } from './api';
import { ApiStore } from './store';
import { DEFAULT_SERVICE_CIDR } from '../topology/services';

export { DEFAULT_SERVICE_CIDR };

export function mountApi(store: ApiStore): MountedService {
  return {
    name: 'apiserver',
    prefix: '/api',
    what: `pods of ${store.config.clusterCidr} and Services of ${store.config.serviceCidr}`,
    rules: apiRules(store),
    handle: (q) => handleApi(store, q),
    close: () => store.close(),
  };
}

/** The store's file: `data` itself, or apiserver.db in it when it is a folder. */
export function apiDataFile(data: string): string {
  return existsSync(data) && statSync(data).isDirectory() ? join(data, 'apiserver.db') : data;
}

/** The controller flags that mount the API server, its store in `dataFile`, for `topology`'s ranges. */
export function apiserverArgs(
  topology: {
    readonly podCidr: string;
    readonly podCidr6?: string;
    readonly ipFamilies?: readonly number[];
    readonly services?: { readonly cidr?: string };
  },
  dataFile: string,
): string[] {
  // A topology whose pod range covers the default Service range, and that names none, has no API server.
  const cidr = topology.services === undefined ? DEFAULT_SERVICE_CIDR : topology.services.cidr;
  if (cidr === undefined) return [];
  return [
    '--api-data',
    dataFile,
    '--service-cidr',
    cidr,
    '--cluster-cidr',
    topology.podCidr,
    ...(topology.ipFamilies?.includes(6) && topology.podCidr6 ? ['--cluster-cidr6', topology.podCidr6] : []),
  ];
}

async function podsOf(node: string, get: AdminGet): Promise<Pod[]> {
  return ((await get('/api/pods')) as { pods: Pod[] }).pods.filter((p) => p.node === node);
}

/**
 * Another node taking over, relabelling or removing the victim's pod, registering a pod on the
 * victim, or giving its own pod the victim's pod's address (409: Services would send the victim's
 * traffic to it); writing Services or NetworkPolicies, which are the administrator's (a policy
 * denying everything would cut the victim off); and reading the victim's share of the policies.
 */
const apiTrespass: Trespass = {
  probe: '/api/services',
  owned: (victim, get) => podsOf(victim, get),
  async attempts(victim, get, self) {
    const [pod] = await podsOf(victim, get);
    if (!pod) throw new CnilabError('NOT_FOUND', `node ${victim} has no pod registered with the API server`);
    const mine = `${self}-trespass`.slice(0, 63);
    const attempts: Attempt[] = [
      { method: 'PUT', path: `/api/pods/${pod.name}`, body: { node: self, ip: pod.ip } },
      { method: 'PUT', path: `/api/pods/${pod.name}/labels`, body: { labels: { ...pod.labels, taken: 'yes' } } },
      { method: 'DELETE', path: `/api/pods/${pod.name}` },
      { method: 'PUT', path: `/api/pods/${mine}`, body: { node: victim, ip: pod.ip } },
      { method: 'PUT', path: `/api/pods/${mine}`, body: { node: self, ip: pod.ip }, expect: 409 },
      { method: 'POST', path: '/api/services', body: { name: 'trespass', ports: [{ port: 80 }], pods: [pod.name] } },
      { method: 'DELETE', path: '/api/services/trespass' },
      { method: 'DELETE', path: '/api/services', body: { names: ['trespass'] } },
      {
        method: 'PUT',
        path: '/api/policies',
        body: {
          items: [
            {
              apiVersion: 'networking.k8s.io/v1',
              kind: 'NetworkPolicy',
              metadata: { name: 'trespass' },
              spec: { podSelector: {} },
            },
          ],
        },
      },
      { method: 'DELETE', path: '/api/policies', body: { keys: ['default/trespass'] } },
      { method: 'GET', path: `/api/policy/${victim}` },
    ];
    return attempts;
  },
};

export const apiService: ControllerService = {
  name: 'apiserver',
  trespass: apiTrespass,
  options: {
    /** The store's SQLite file, or a folder to keep apiserver.db in; without it the API server is not mounted. */
    'api-data': { type: 'string' },
    /** Where ClusterIPs come from. */
    'service-cidr': { type: 'string', default: DEFAULT_SERVICE_CIDR },
    /** The pods' range: a pod's address must lie in it. */
    'cluster-cidr': { type: 'string' },
    /** The pods' IPv6 range, when they have IPv6. */
    'cluster-cidr6': { type: 'string' },
  },
  open(values) {
    const data = values['api-data'];
    if (typeof data !== 'string') return undefined;
    const clusterCidr = values['cluster-cidr'];
    if (typeof clusterCidr !== 'string') throw new CnilabError('INVALID_INPUT', '--cluster-cidr is required');
    const serviceCidr = values['service-cidr'] as string;
    try {
      const clusterCidr6 = values['cluster-cidr6'];
      return mountApi(
        new ApiStore(apiDataFile(data), {
          serviceCidr,
          clusterCidr,
          ...(typeof clusterCidr6 === 'string' ? { clusterCidr6 } : {}),
        }),
      );
    } catch (e) {
      if (!(e instanceof CnilabError) || e.code !== 'INVALID_INPUT') throw e;
      const flag = e.message.replace(/^serviceCidr:/, '--service-cidr:').replace(/^clusterCidr:/, '--cluster-cidr:');
      throw new CnilabError('INVALID_INPUT', flag, { cause: e });
    }
  },
};
