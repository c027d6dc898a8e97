import { main } from '../../skel';
import { staticPlugin } from './static';

main(staticPlugin);
