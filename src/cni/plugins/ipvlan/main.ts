import { main } from '../../skel';
import { withOwnIpam } from '../own-ipam';
import { ipvlanPlugin } from './ipvlan';

withOwnIpam();
main(ipvlanPlugin);
