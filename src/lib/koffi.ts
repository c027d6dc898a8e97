/**
 * koffi, the FFI cnilab calls libc through under Node (flannel's user-space data paths, netlink
 * when a plugin runs under Node), loaded on first use: it costs Node ~7–30 ms to load.
 */
import { CnilabError } from './errors';

/**
 * Set by scripts/make-cni-bin.js in the plugin bundles: the checkout's node_modules, where koffi is
 * found when a plugin running under Node has been copied elsewhere (/opt/cni/bin, say).
 */
declare const CNILAB_NODE_MODULES: string | undefined;

function requireKoffi(): typeof import('koffi') {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy, see above
    return require('koffi') as typeof import('koffi');
  } catch (e) {
    if (typeof CNILAB_NODE_MODULES !== 'string') throw e;
    // through a variable: a bundler must leave this require to run time (koffi loads a native module)
    const load: NodeJS.Require = require;
    return load(`${CNILAB_NODE_MODULES}/koffi`) as typeof import('koffi');
  }
}

/** koffi, or FEATURE_MISSING saying what to run. */
export function loadKoffi(): typeof import('koffi') {
  try {
    return requireKoffi();
  } catch (e) {
    throw new CnilabError(
      'FEATURE_MISSING',
      `koffi (FFI) cannot be loaded: ${(e as Error).message}; run scripts/setup.sh`,
    );
  }
}
