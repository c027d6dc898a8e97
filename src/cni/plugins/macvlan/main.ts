import { main } from '../../skel';
import { macvlanPlugin } from './macvlan';

main(macvlanPlugin);
