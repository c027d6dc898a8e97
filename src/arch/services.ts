/**
 * The controller services kinds declare, which the controller process offers (src/controller/main.ts):
 * each is mounted when its flags are given, so a lab's controller serves only what its kind's
 * control plane asked for. Kept apart from arch/index.ts so the controller loads stores and APIs only.
 * The API server (pods and Services, src/apiserver) is the core's, not a kind's: any lab may mount it.
 */
import type { ControllerService } from '../controller/service';
import { leaseService } from '../flannel/subnet/service';
import { neutronService } from '../kuryr/neutron/service';
import { ipamService } from '../calico/ipam/service';
import { apiService } from '../apiserver/service';

export const controllerServices: readonly ControllerService[] = [leaseService, neutronService, ipamService, apiService];
