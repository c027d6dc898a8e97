/**
 * A path's data-path diagram as SVG, drawn from the hops the kernel counted (results.json
 * `paths`): one box per namespace, client to server; in each, the interfaces the traffic crossed,
 * with the packets they carried in the data's direction and the bytes per packet the kernel saw;
 * where a kind's meter sits on an interface's ingress (an eBPF program, say), what it counted.
 */
import type { PathRecord } from '../run/results-schema';

const BOX_W = 206;
const GAP = 36;
const CHIP_H = 56;
const HEAD_H = 26;
const PAD = 8;

const KIND_COLORS: Record<string, string> = {
  veth: '#e8f0fe',
  bridge: '#fef3e0',
  vxlan: '#fde2e1',
  tun: '#fde2e1',
  macvlan: '#e3f4ea',
  ipvlan: '#e3f4ea',
};

export function escapeXml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

const count = (n: number): string =>
  n >= 1e6 ? `${(n / 1e6).toFixed(2)}M` : n >= 1e3 ? `${(n / 1e3).toFixed(1)}k` : String(n);

type Hop = PathRecord['hops'][number];
type Group = NonNullable<PathRecord['meters']>[number];
type Reading = Group['readings'][number];

/** Whether a reading sits on a hop: its interface by name (a trailing * a prefix) or by kind. */
const sitsOn = (r: Reading, h: Hop): boolean =>
  r.on.some((o) =>
    o.ifname?.endsWith('*') ? h.ifname.startsWith(o.ifname.slice(0, -1)) : o.ifname === h.ifname || o.kind === h.kind,
  );

/**
 * The kind's meter on a hop's ingress, if the data enters the node there and it counted packets
 * (an eBPF program on the interface it sits on, say). Its counters are its node's, both
 * directions and every interface it sits on together (the data and the ACKs coming back).
 */
function meterAt(p: PathRecord, h: Hop, ingress: boolean): { g: Group; r: Reading } | undefined {
  const node = h.stop.startsWith('node ') ? h.stop.slice('node '.length) : undefined;
  if (!node || !ingress) return undefined;
  for (const g of p.meters ?? []) {
    const r = g.readings.find((x) => x.node === node && sitsOn(x, h));
    if (r) return { g, r };
  }
  return undefined;
}

/** What a meter counted, biggest first: "NAME 75.2k redirect, 2 pass" (without its name: "75.2k redirect, 2 pass"). */
export function meterLine(x: Reading, named = true): string {
  const moved = Object.entries(x.counts)
    .filter(([k, n]) => !k.endsWith('Bytes') && n > 0)
    .sort((a, b) => b[1] - a[1]);
  const what = moved.map(([a, n]) => `${count(n)} ${a}`).join(', ') || 'idle';
  return named ? `${x.name} ${what}` : what;
}

/** A hop's tooltip: its counters, and what a meter of the kind counted there. */
function hopTitle(h: Hop, back: boolean, m: { g: Group; r: Reading } | undefined): string {
  const port = h.master ? `, port of ${h.master}` : '';
  const counts = `rx ${h.rxPackets} packets / ${h.rxBytes} bytes, tx ${h.txPackets} packets / ${h.txBytes} bytes`;
  const ret = back ? '; only the return direction crossed it, the data went past it' : '';
  const meter = m
    ? `; ${m.g.meter}: ${meterLine(m.r)} (on ${h.stop}, every interface it sits on, both directions)`
    : '';
  return `<title>${escapeXml(`${h.ifname} (${h.kind}${port}, mtu ${h.mtu}): ${counts}${ret}${meter}`)}</title>`;
}

export function pathDiagram(p: PathRecord, id = 'dp'): string {
  // A fourth line in each chip when the path has a kind's meters to show.
  const chipH = p.meters?.some((g) => g.readings.length) ? CHIP_H + 14 : CHIP_H;
  const arrow = `${id}-arrow`;
  const stops: { label: string; hops: PathRecord['hops'][number][] }[] = [];
  for (const h of p.hops) {
    const last = stops[stops.length - 1];
    if (last && last.label === h.stop) last.hops.push(h);
    else stops.push({ label: h.stop, hops: [h] });
  }
  // A hop that carried a tenth of the path's busiest direction or less saw only the return traffic
  // (ACKs): the data went past it — e.g. bpf_redirect_peer skips the host end of a pod's veth.
  const busiest = Math.max(0, ...p.hops.map((h) => Math.max(h.rxBytes, h.txBytes)));
  const returnOnly = (h: Hop): boolean => Math.max(h.rxBytes, h.txBytes) * 10 <= busiest;
  const rows = Math.max(1, ...stops.map((s) => s.hops.length));
  const height = HEAD_H + rows * (chipH + PAD) + PAD * 2;
  const width = Math.max(1, stops.length) * (BOX_W + GAP) - GAP + 2;
  const parts: string[] = [];
  const centres: { x: number; y: number; box: number }[] = [];
  stops.forEach((s, i) => {
    const x = 1 + i * (BOX_W + GAP);
    parts.push(`<rect x="${x}" y="1" width="${BOX_W}" height="${height - 2}" rx="8" fill="#fafafa" stroke="#999"/>`);
    parts.push(
      `<text x="${x + BOX_W / 2}" y="18" text-anchor="middle" font-weight="bold" ` +
        `font-size="12">${escapeXml(s.label)}</text>`,
    );
    s.hops.forEach((h, j) => {
      const y = HEAD_H + PAD + j * (chipH + PAD);
      const ingress = h.rxBytes >= h.txBytes;
      const pk = ingress ? h.rxPackets : h.txPackets;
      const perPacket = pk ? Math.round((ingress ? h.rxBytes : h.txBytes) / pk) : 0;
      const m = meterAt(p, h, ingress);
      const back = returnOnly(h);
      parts.push(
        `<g class="hop${back ? ' return-only' : ''}" data-ifname="${escapeXml(h.ifname)}" ` +
          `data-packets="${pk}"${m ? ` data-meter="${escapeXml(m.r.name)}"` : ''}>` +
          (`<rect x="${x + PAD}" y="${y}" width="${BOX_W - 2 * PAD}" height="${chipH}" rx="5" ` +
            `fill="${KIND_COLORS[h.kind] ?? '#eee'}" stroke="#666"${back ? ' stroke-dasharray="4 3"' : ''}/>`) +
          hopTitle(h, back, m) +
          (`<text x="${x + PAD + 6}" y="${y + 16}" font-size="11"><tspan ` +
            `font-weight="bold">${escapeXml(h.ifname)}</tspan> ${escapeXml(h.kind)}` +
            `${h.master ? `@${escapeXml(h.master)}` : ''}</text>`) +
          (`<text x="${x + PAD + 6}" y="${y + 31}" font-size="10" ` +
            `fill="#333">${back ? 'return only: ' : ''}${ingress ? 'in' : 'out'} ${count(pk)} ` +
            `packets, ${count(perPacket)}B each</text>`) +
          `<text x="${x + PAD + 6}" y="${y + 46}" font-size="10" fill="#666">mtu ${h.mtu}</text>` +
          (m
            ? `<text x="${x + PAD + 6}" y="${y + 60}" font-size="10" fill="#5b3f9e" ` +
              `font-weight="bold">${escapeXml(m.g.tag)} ` +
              `(node): ${escapeXml(meterLine(m.r, false))}</text>`
            : '') +
          `</g>`,
      );
      if (!back) centres.push({ x, y: y + chipH / 2, box: i }); // the data's arrows pass a return-only hop by
    });
  });
  // Arrows: down a box from one interface to the next, then across to the next box.
  for (let k = 1; k < centres.length; k++) {
    const a = centres[k - 1]!;
    const b = centres[k]!;
    if (a.box === b.box) {
      const cx = a.x + BOX_W / 2;
      parts.push(
        `<line x1="${cx}" y1="${a.y + chipH / 2}" x2="${cx}" y2="${b.y - chipH / 2}" stroke="#333" ` +
          `marker-end="url(#${arrow})"/>`,
      );
    } else {
      parts.push(
        `<path d="M${a.x + BOX_W - PAD} ${a.y} ` +
          `C${a.x + BOX_W + GAP / 2} ${a.y} ${b.x - GAP / 2} ${b.y} ${b.x + PAD} ${b.y}" fill="none" ` +
          `stroke="#333" marker-end="url(#${arrow})"/>`,
      );
    }
  }
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" class="datapath" width="${width}" height="${height}" viewBox="0 ` +
    `0 ${width} ${height}" font-family="DejaVu Sans, Helvetica, Arial, sans-serif" role="img" ` +
    `aria-label="${escapeXml(`${p.arch} ${p.path}: ${p.hops.map((h) => `${h.stop}/${h.ifname}`).join(' → ')}`)}">` +
    (`<defs><marker id="${arrow}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" ` +
      `orient="auto-start-reverse"><path d="M0 0 L10 5 L0 10 z" fill="#333"/></marker></defs>`) +
    parts.join('') +
    `</svg>`
  );
}
