import { main } from '../../skel';
import { withOwnIpam } from '../own-ipam';
import { ebpfPlugin } from './ebpf';

withOwnIpam();
main(ebpfPlugin);
