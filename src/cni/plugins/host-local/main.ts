import { main } from '../../skel';
import { hostLocalPlugin } from './host-local';

main(hostLocalPlugin);
