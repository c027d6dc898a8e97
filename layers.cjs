// The folders of src/ by role, one list for the import rules (.dependency-cruiser.cjs) and the
// tests that hold the core to them (src/arch/boundaries.test.ts). Every other folder of src/ is a
// kind's: a new kind's folder is one by being none of these.

/** The core: never names a kind, imports no kind's folder. */
const GENERIC = [
  'run',
  'lab',
  'cli',
  'report',
  'controller',
  'doctor',
  'topology',
  'traffic',
  'lib',
  'node',
  'apiserver',
];
/**
 * The registry (arch/: the one place that lists kinds), the CNI layer (plugins built alone) and the
 * Service proxies (proxy/: a registry of modes, one folder each, run on every kind's nodes; the
 * eBPF ones built on a kind's eBPF parts), and NetworkPolicy (policy/: the semantics, the agent and
 * the netfilter designs; a kind's own design lives in the kind's folder).
 */
const SHARED = ['arch', 'cni', 'proxy', 'policy'];
/** A path of a kind's folder; group 1 is the kind. */
const KIND_PATH = `^src/(?!(?:${[...GENERIC, ...SHARED].join('|')})/)([^/]+)/`;
/**
 * What a kind may take from another, declared: the ebpf kind is flannel's control plane and agent
 * with a data path of its own (docs/ebpf.md).
 */
const BUILDS_ON = { ebpf: '^src/flannel/(control-plane|subnet/model|agent/daemon)\\.ts$' };

/**
 * What a proxy mode may take from another, declared: the ipvs mode uses the iptables mode's tables
 * (its masquerade and filter chains), as kube-proxy's IPVS proxier does.
 */
const PROXY_BUILDS_ON = { ipvs: '^src/proxy/iptables/(rules|tables)\\.ts$' };

module.exports = { GENERIC, SHARED, KIND_PATH, BUILDS_ON, PROXY_BUILDS_ON };
