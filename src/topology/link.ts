/**
 * Link emulation of the underlay: a rate, a one-way delay and a loss per link (a link is a node's
 * eth0 and its switch port), lab-wide in `topology.underlay` and per node in `nodes.<name>.link`,
 * the node's fields overriding the lab-wide ones one by one. Units are parsed strictly here (pure);
 * lab/link-emulation.ts turns a link into qdiscs.
 */
import { z } from 'zod';

/** What one link does to every packet, in each direction. */
export interface LinkSpec {
  /** Bits per second each way (tbf). */
  readonly rateBitsPerSec?: number;
  /** One-way delay in microseconds, each direction (netem). 0: none. */
  readonly delayUs?: number;
  /** % of packets dropped, each direction (netem). 0: none. */
  readonly lossPct?: number;
}

const RATE_UNITS = { bit: 1, kbit: 1e3, mbit: 1e6, gbit: 1e9 } as const;
const DELAY_UNITS = { us: 1, ms: 1e3, s: 1e6 } as const;
const MIN_RATE = 1e3;
const MAX_RATE = 100e9;
const MAX_DELAY_US = 10e6;

const NUMBER = '(\\d+(?:\\.\\d+)?)';

export const rateSchema = z
  .string({ error: 'must be a rate with its unit, like 100mbit or 1gbit (units: bit, kbit, mbit, gbit)' })
  .transform((s, ctx) => {
    const m = new RegExp(`^${NUMBER}(bit|kbit|mbit|gbit)$`).exec(s);
    const bits = m ? Math.round(Number(m[1]) * RATE_UNITS[m[2] as keyof typeof RATE_UNITS]) : NaN;
    if (!m)
      ctx.addIssue({
        code: 'custom',
        message: `${JSON.stringify(s)} is not a rate: write it like 100mbit or 1gbit (units: bit, kbit, mbit, gbit)`,
      });
    else if (bits < MIN_RATE || bits > MAX_RATE)
      ctx.addIssue({ code: 'custom', message: `${s} must be from 1kbit to 100gbit` });
    return bits;
  });

export const delaySchema = z
  .string({ error: 'must be a time with its unit, like 2ms (units: us, ms, s)' })
  .transform((s, ctx) => {
    const m = new RegExp(`^${NUMBER}(us|ms|s)$`).exec(s);
    const us = m ? Number(m[1]) * DELAY_UNITS[m[2] as keyof typeof DELAY_UNITS] : NaN;
    if (!m)
      ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not a delay: write it like 500us, 2ms or 1s` });
    else if (Math.abs(us - Math.round(us)) > 1e-6 || us > MAX_DELAY_US)
      ctx.addIssue({ code: 'custom', message: `${s} must be whole microseconds from 0 to 10s` });
    return Math.round(us);
  });

export const lossSchema = z
  .string({ error: 'must be a percentage with its % sign, like 0.1% (0%–100%)' })
  .transform((s, ctx) => {
    const m = new RegExp(`^${NUMBER}%$`).exec(s);
    const pct = m ? Number(m[1]) : NaN;
    if (!m) ctx.addIssue({ code: 'custom', message: `${JSON.stringify(s)} is not a percentage: write it like 0.1%` });
    else if (pct > 100) ctx.addIssue({ code: 'custom', message: `${s} must be from 0% to 100%` });
    return pct;
  });

/** The link fields as a topology or scenario file writes them. */
export const linkFields = {
  /** Rate each way, e.g. 1gbit. Default: none (the veth's own speed). */
  rate: rateSchema.optional(),
  /** One-way delay each direction, e.g. 2ms. Default: none. */
  delay: delaySchema.optional(),
  /** Loss each direction, e.g. 0.1%. Default: none. */
  loss: lossSchema.optional(),
};

export const linkSchema = z.strictObject(linkFields);

/** From the parsed file fields to a LinkSpec, or undefined when no field is given. */
export function linkSpec(f: { rate?: number; delay?: number; loss?: number }): LinkSpec | undefined {
  const l: LinkSpec = {
    ...(f.rate !== undefined ? { rateBitsPerSec: f.rate } : {}),
    ...(f.delay !== undefined ? { delayUs: f.delay } : {}),
    ...(f.loss !== undefined ? { lossPct: f.loss } : {}),
  };
  return Object.keys(l).length ? l : undefined;
}

/** A node's link: its own fields over the lab-wide ones; undefined when it does nothing. */
export function effectiveLink(labWide: LinkSpec | undefined, own: LinkSpec | undefined): LinkSpec | undefined {
  const l = { ...labWide, ...own };
  const active: LinkSpec = {
    ...(l.rateBitsPerSec !== undefined ? { rateBitsPerSec: l.rateBitsPerSec } : {}),
    ...(l.delayUs ? { delayUs: l.delayUs } : {}),
    ...(l.lossPct ? { lossPct: l.lossPct } : {}),
  };
  return Object.keys(active).length ? active : undefined;
}

/** A rate as tc writes it: the largest unit that keeps it whole (1gbit, 100mbit, 1500kbit). */
export function formatRate(bits: number): string {
  for (const [unit, f] of [
    ['gbit', 1e9],
    ['mbit', 1e6],
    ['kbit', 1e3],
  ] as const)
    if (bits >= f && bits % f === 0) return `${bits / f}${unit}`;
  return `${bits}bit`;
}

/** A delay as tc writes it (2ms, 500us, 1s). */
export function formatDelay(us: number): string {
  if (us >= 1e6 && us % 1e6 === 0) return `${us / 1e6}s`;
  if (us >= 1e3 && us % 1e3 === 0) return `${us / 1e3}ms`;
  return `${us}us`;
}

/** One line for people: "1gbit, 2ms one way, 0.1% loss". */
export function describeLink(l: LinkSpec): string {
  return [
    l.rateBitsPerSec !== undefined ? formatRate(l.rateBitsPerSec) : '',
    l.delayUs ? `${formatDelay(l.delayUs)} one way` : '',
    l.lossPct ? `${l.lossPct}% loss` : '',
  ]
    .filter(Boolean)
    .join(', ');
}
