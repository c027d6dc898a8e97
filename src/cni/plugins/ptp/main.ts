import { main } from '../../skel';
import { withOwnIpam } from '../own-ipam';
import { ptpPlugin } from './ptp';

withOwnIpam();
main(ptpPlugin);
