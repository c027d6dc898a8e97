import { main } from '../../skel';
import { flannelPlugin } from './flannel';

main(flannelPlugin);
