import { main } from '../../skel';
import { calicoIpamPlugin } from './calico-ipam';

main(calicoIpamPlugin);
