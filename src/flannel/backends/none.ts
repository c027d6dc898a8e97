import type { Backend } from './backend';

/** No data path between nodes: only the lease (pods reach each other on one node, or by L2). */
export const noneBackend: Backend = async (ctx) => ({
  mtu: ctx.underlayMtu,
  backendData: {},
  configure: async () => undefined,
  sync: async () => undefined,
});
