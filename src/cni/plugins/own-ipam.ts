/**
 * The IPAM plugins an interface plugin may run in its own process (see `registerInProcess`): only
 * when the executable found on CNI_PATH is ours; a reference `host-local` is executed as usual.
 * (The flannel meta-plugin adds `bridge` the same way.)
 */
import { registerInProcess } from '../invoke';
import { hostLocalPlugin } from './host-local/host-local';
import { staticPlugin } from './static/static';

export function withOwnIpam(): void {
  registerInProcess('host-local', hostLocalPlugin);
  registerInProcess('static', staticPlugin);
}
