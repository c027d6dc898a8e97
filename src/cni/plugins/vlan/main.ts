import { main } from '../../skel';
import { withOwnIpam } from '../own-ipam';
import { vlanPlugin } from './vlan';

withOwnIpam();
main(vlanPlugin);
