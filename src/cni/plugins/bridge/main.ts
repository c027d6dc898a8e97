import { main } from '../../skel';
import { withOwnIpam } from '../own-ipam';
import { bridgePlugin } from './bridge';

withOwnIpam();
main(bridgePlugin);
