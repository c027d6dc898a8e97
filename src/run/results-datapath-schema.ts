/**
 * What moved a row's packets, beside its figures: the cost of a user-space data-path process
 * (flannel-udp's agent, say) and a kind's own counters (its programs', say), both read around
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
        'system calls per device packet as the process counts them: every read, write, send, receive and poll, ' +
          'failed ones (EAGAIN) included',
      ),
    wirePackets: z
      .number()
      .int()
      .optional()
      .describe(
        'packets the process sent and received on the underlay (UDP datagrams), by its own count; with offloads ' +
          'one device packet is a super-packet of many',
      ),
    syscallsPerWirePacket: z
      .number()
      .optional()
      .describe('system calls per packet on the wire: comparable between a per-packet and an offloaded data path'),
    syscallsPerMB: z.number().optional().describe('system calls per megabyte (10^6 bytes) of inner packets moved'),
    procIoSyscallsPerPacket: z
      .number()
      .describe(
        "syscr + syscw of /proc/PID/io per packet: the kernel's count of the read()/write() calls on files (the " +
          'TUN); socket calls are not in it',
      ),
    contextSwitchesPerPacket: z
      .object({ voluntary: z.number(), involuntary: z.number() })
      .describe("summed over the process's threads, per packet"),
  })
  .describe('The cost of a user-space data-path process on the path, from /proc');

export const meterGroupSchema = z
  .object({
    meter: z.string().describe('what counted, e.g. "eBPF programs"'),
    tag: z.string().describe('its short tag on the path diagram, e.g. "bpf"'),
    about: z.string().describe('what its counters are'),
    readings: z.array(
      z.object({
        node: z.string(),
        name: z.string().describe('what on the node counted, e.g. a program'),
        on: z
          .array(
            z.object({
              ifname: z.string().optional().describe('an interface name; a trailing * makes it a prefix'),
              kind: z.string().optional().describe('an interface kind, e.g. vxlan'),
            }),
          )
          .describe('the interfaces it sits on (ingress)'),
        counts: z
          .record(z.string(), z.number())
          .describe('its counts by name, in the order shown: packets, or bytes where the name ends in "Bytes"'),
      }),
    ),
  })
  .describe(
    "A kind's own counters during the row's counted sample (ControlPlane.meters), e.g. what each eBPF program did " +
      'on each node; only what moved',
  );

export type DatapathCost = z.infer<typeof datapathCost>;
export type MeterGroupJson = z.infer<typeof meterGroupSchema>;
