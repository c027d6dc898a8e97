import { main } from '../../skel';
import { withOwnIpam } from '../own-ipam';
import { macvlanPlugin } from './macvlan';

withOwnIpam();
main(macvlanPlugin);
