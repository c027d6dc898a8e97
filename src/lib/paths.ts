/** Where cnilab's own executables are, relative to the compiled code (dist/src/lib). */
import { resolve } from 'node:path';

const DIST = resolve(__dirname, '..', '..');

/** The directory of cnilab's CNI plugin executables (for CNI_PATH). */
export const CNI_BIN_DIR = resolve(DIST, 'cni-bin');
export const AGENT_MAIN = resolve(DIST, 'src/flannel/agent/main.js');
export const CONTROLLER_MAIN = resolve(DIST, 'src/controller/main.js');
export const REPO_ROOT = resolve(DIST, '..');
/** The eBPF data path's object (scripts/build-bpf.js), and what its build said. */
export const BPF_OBJECT = resolve(DIST, 'bpf/datapath.o');
export const BPF_BUILD = resolve(DIST, 'bpf/build.json');
/** The eBPF Service proxy's object (scripts/build-bpf.js), and what its build said. */
export const BPF_SERVICE_OBJECT = resolve(DIST, 'bpf/service.o');
export const BPF_SERVICE_BUILD = resolve(DIST, 'bpf/service.json');
