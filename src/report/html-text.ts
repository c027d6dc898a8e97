/** The fixed parts of report.html: its CSS, the family legend, the table heads and the long fixed paragraphs. */
import { FAMILY_COLORS } from './charts';

/** A table cell; class "n" right-aligns a number. */
export const td = (v: string | number, cls = ''): string => `<td${cls ? ` class="${cls}"` : ''}>${v}</td>`;
export const ths = (names: readonly string[]): string => names.map((h) => `<th>${h}</th>`).join('');

export const DATAPATH_HEAD = [
  'architecture',
  'path',
  'process',
  'CPU (% of a core, usr/sys)',
  'packets on the wire',
  'syscalls per wire packet',
  'syscalls per MB',
  'context switches per packet',
];

const FAMILY_LEGEND: readonly [keyof typeof FAMILY_COLORS, string][] = [
  ['baseline', 'no pods'],
  ['overlay', 'encapsulated between nodes'],
  ['native', 'pod packets as they are, over L2 or a bridge'],
  ['l3', 'routed between nodes by routes alone, no encapsulation'],
];

export const CSS = [
  '',
  'body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;margin:0 auto;max-width:1180px;' +
    'padding:16px 24px;color:#222;line-height:1.45}',
  'h1{font-size:22px;margin:8px 0}h2{font-size:18px;margin-top:32px;border-bottom:1px solid #ddd;padding-bottom:4px}' +
    'h3{font-size:15px}',
  '.meta{color:#555;font-size:13px}.headlines li{margin:4px 0}.warn{color:#b00020;font-weight:bold}',
  'figure{margin:16px 0 28px}figure.chart svg{max-width:100%;height:auto}' +
    'figcaption{font-size:13px;color:#444;max-width:900px}figcaption b{color:#222}',
  'table{border-collapse:collapse;font-size:12px;margin:8px 0}' +
    'th,td{border-bottom:1px solid #e3e3e3;padding:3px 8px;text-align:left;vertical-align:top}',
  'td.n{text-align:right;font-variant-numeric:tabular-nums}tr.unstable td{background:#fff4f4}td.samples{color:#666}',
  '.dp{overflow-x:auto;margin:8px 0 20px}.dp p{font-size:13px;margin:2px 0}',
  '.legend span{display:inline-block;width:10px;height:10px;margin:0 4px 0 12px}',
  '',
].join('\n');

export const LEGEND = FAMILY_LEGEND.map(
  ([f, words]) => `<span style="background:${FAMILY_COLORS[f]}"></span>${f} (${words})`,
).join('');

export const PATHS_NOTE =
  `<p class="meta">Every interface whose counters moved during the test, from client to server. ` +
  `Packets are as each device counted them: a GSO/GRO super-packet counts once, so bytes per packet far above ` +
  `the MTU show offloads at work. <code>veth@cni0</code> is a port of bridge cni0: a bridge forwarding between ` +
  `its own ports does not count those frames on its own device, so it appears only where packets go up to the ` +
  `node's stack (routing, tunnels). A dashed interface carried only the return direction (ACKs): the data went ` +
  `past it, as <code>bpf_redirect_peer</code> takes it past a pod's host end. A fourth line, <b>tag (node)</b>: ` +
  `what a meter of the architecture's kind counted on that node (an eBPF program, say), on every interface it ` +
  `sits on, both directions.</p>`;
