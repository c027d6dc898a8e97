/**
 * What moved a row's packets, beside its figures: the cost of a user-space data-path process
 * (flannel-udp's agent) and what the eBPF programs did (the ebpf architectures), both read around
 * the row's counted sample. Part of results.json (results-schema.ts).
 */
import { z } from 'zod';

export const datapathCost = z
  .object({
    process: z.string().describe('the process that moves packets in user space, e.g. agent'),
    node: z.string(),
    device: z.string().describe('the device whose kernel counters give the packets, e.g. flannel0'),
    packets: z
      .number()
      .int()
      .describe("packets the process moved (device tx + rx), during the row's first sample, when the path was counted"),
    cpu: z.object({ user: z.number(), system: z.number() }).describe('% of one core while the client ran'),
    syscallsPerPacket: z
      .number()
      .describe(
        'system calls per device packet as the process counts them: every read, write, send, receive and poll, failed ones (EAGAIN) included',
      ),
    wirePackets: z
      .number()
      .int()
      .optional()
      .describe(
        'packets the process sent and received on the underlay (UDP datagrams), by its own count; with offloads one device packet is a super-packet of many',
      ),
    syscallsPerWirePacket: z
      .number()
      .optional()
      .describe('system calls per packet on the wire: comparable between a per-packet and an offloaded data path'),
    syscallsPerMB: z.number().optional().describe('system calls per megabyte (10^6 bytes) of inner packets moved'),
    procIoSyscallsPerPacket: z
      .number()
      .describe(
        "syscr + syscw of /proc/PID/io per packet: the kernel's count of the read()/write() calls on files (the TUN); socket calls are not in it",
      ),
    contextSwitchesPerPacket: z
      .object({ voluntary: z.number(), involuntary: z.number() })
      .describe("summed over the process's threads, per packet"),
  })
  .describe('The cost of a user-space data-path process on the path, from /proc');

export const programCountersSchema = z
  .object({
    node: z.string(),
    program: z
      .enum(['from_pod', 'from_netdev', 'from_tunnel'])
      .describe(
        "from_pod: a pod's host-side veth, ingress; from_netdev: the node's eth0, ingress; from_tunnel: the VXLAN device, ingress",
      ),
    redirectPeer: z.number().int().describe('packets handed straight to a local pod (bpf_redirect_peer)'),
    redirectNeigh: z
      .number()
      .int()
      .describe("packets sent to a route's device, the kernel resolving the next hop (bpf_redirect_neigh)"),
    redirect: z.number().int().describe("packets sent to a route's device with the MACs set (bpf_redirect)"),
    pass: z.number().int().describe("packets left to the node's IP stack"),
    drop: z.number().int(),
    redirectedBytes: z.number().int(),
    passedBytes: z.number().int(),
  })
  .describe(
    "What one eBPF program did on one node during the row's counted sample (the programs' own per-CPU counters)",
  );

export type DatapathCost = z.infer<typeof datapathCost>;
export type ProgramCounters = z.infer<typeof programCountersSchema>;
