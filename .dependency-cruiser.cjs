// Which folder may import which (docs/design.md, "Layers"). `npm run lint` runs it over src/.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'lib-is-a-leaf',
      comment: 'src/lib is the kernel-and-process toolbox every layer uses; it imports nothing else of ours.',
      severity: 'error',
      from: { path: '^src/lib/' },
      to: { path: '^src/(?!lib/)' },
    },
    {
      name: 'cni-plugins-stand-alone',
      comment:
        'A CNI plugin is bundled into its own executable: it may import only the CNI layer (src/cni) and src/lib.',
      severity: 'error',
      from: { path: '^src/cni/plugins/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/(?!cni/|lib/)' },
    },
    {
      name: 'cni-layer-stands-alone',
      comment: "The CNI runtime and skel (libcni's and skel's roles) know nothing of labs, architectures or the CLI.",
      severity: 'error',
      from: { path: '^src/cni/', pathNot: '\\.test\\.ts$' },
      to: { path: '^src/(?!cni/|lib/)' },
    },
    {
      name: 'node-toolkit-is-neutral',
      comment: "src/node is what every kind's agents and stores share: it knows src/lib only, never a kind.",
      severity: 'error',
      from: { path: '^src/node/' },
      to: { path: '^src/(?!lib/|node/)' },
    },
    {
      name: 'kinds-stand-apart',
      comment: "A kind imports no other kind's folder; what they share lives in src/node or src/lib.",
      severity: 'error',
      from: { path: '^src/(flannel|kuryr|calico|ebpf)/', pathNot: '^src/ebpf/' },
      to: { path: '^src/(flannel|kuryr|calico|ebpf)/', pathNot: '^src/$1/' },
    },
    {
      name: 'ebpf-builds-on-flannel-only',
      comment:
        "The ebpf kind is flannel's control plane and agent with its own data path: it may import those, and no other kind.",
      severity: 'error',
      from: { path: '^src/ebpf/' },
      to: {
        path: '^src/(flannel|kuryr|calico)/',
        pathNot: '^src/flannel/(control-plane|subnet/model|agent/daemon)\\.ts$',
      },
    },
    {
      name: 'no-tests-from-src',
      comment: 'Product code never imports test code.',
      severity: 'error',
      from: { path: '^src/', pathNot: '\\.test\\.ts$' },
      to: { path: '^test/|\\.test\\.ts$' },
    },
    {
      name: 'no-circular',
      comment: 'A cycle makes module load order matter (CommonJS hands out half-initialised modules).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
  },
};
