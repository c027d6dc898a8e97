import { main } from '../../skel';
import { registerInProcess } from '../../invoke';
import { withOwnIpam } from '../own-ipam';
import { bridgePlugin } from '../bridge/bridge';
import { flannelPlugin } from './flannel';

// flannel → bridge → host-local in one Node.js process when all three are cnilab's (see own-ipam).
withOwnIpam();
registerInProcess('bridge', bridgePlugin);
main(flannelPlugin);
