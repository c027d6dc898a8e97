import { main } from '../../skel';
import { bridgePlugin } from './bridge';

main(bridgePlugin);
