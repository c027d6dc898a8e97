import { main } from '../../skel';
import { registerInProcess } from '../../invoke';
import { withOwnIpam } from '../own-ipam';
import { calicoIpamPlugin } from '../calico-ipam/calico-ipam';
import { calicoPlugin } from './calico';

withOwnIpam();
registerInProcess('calico-ipam', calicoIpamPlugin);
main(calicoPlugin);
