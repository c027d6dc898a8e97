// Which folder may import which (docs/design.md, "Layers"). `npm run lint` runs it over src/.
const { GENERIC, KIND_PATH, BUILDS_ON, PROXY_BUILDS_ON } = require('./layers.cjs');

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
      name: 'generic-imports-no-kind',
      comment:
        "The core never names a kind: what a kind adds comes through the registry (src/arch) and the kind's hooks.",
      severity: 'error',
      from: { path: `^src/(?:${GENERIC.join('|')})/` },
      to: { path: KIND_PATH },
    },
    {
      name: 'kind-imports-no-other-kind',
      comment: "A kind imports no other kind's folder; what they share lives in src/node or src/lib.",
      severity: 'error',
      from: { path: KIND_PATH, pathNot: `^src/(?:${Object.keys(BUILDS_ON).join('|')})/` },
      to: { path: KIND_PATH, pathNot: '^src/$1/' },
    },
    ...Object.entries(BUILDS_ON).map(([kind, allowed]) => ({
      name: 'kind-imports-no-other-kind',
      comment: `The ${kind} kind builds on another kind's parts, declared in layers.cjs (BUILDS_ON), and no others.`,
      severity: 'error',
      from: { path: `^src/${kind}/` },
      to: { path: KIND_PATH, pathNot: [`^src/${kind}/`, allowed] },
    })),
    {
      name: 'proxy-imports-no-kind',
      comment: 'The Service proxy runs on every kind of node: it knows src/lib, never a kind.',
      severity: 'error',
      from: { path: '^src/proxy/' },
      to: { path: KIND_PATH },
    },
    {
      name: 'proxy-mode-imports-no-other-mode',
      comment:
        "A proxy mode (a folder of src/proxy) imports no other mode's folder; what they share is a file of src/proxy.",
      severity: 'error',
      from: { path: '^src/proxy/([^/]+)/', pathNot: `^src/proxy/(?:${Object.keys(PROXY_BUILDS_ON).join('|')})/` },
      to: { path: '^src/proxy/[^/]+/', pathNot: '^src/proxy/$1/' },
    },
    ...Object.entries(PROXY_BUILDS_ON).map(([mode, allowed]) => ({
      name: 'proxy-mode-imports-no-other-mode',
      comment: `The ${mode} proxy mode builds on another mode's parts, declared in layers.cjs (PROXY_BUILDS_ON), and no others.`,
      severity: 'error',
      from: { path: `^src/proxy/${mode}/` },
      to: { path: '^src/proxy/[^/]+/', pathNot: [`^src/proxy/${mode}/`, allowed] },
    })),
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
