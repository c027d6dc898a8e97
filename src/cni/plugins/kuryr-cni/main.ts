import { main } from '../../skel';
import { kuryrCniPlugin } from './kuryr-cni';

main(kuryrCniPlugin);
