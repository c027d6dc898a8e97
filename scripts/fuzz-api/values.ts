/** The values the API fuzzer fills requests with: valid ones, hostile ones, and ways to spoil a valid body. */
import type { Rng } from './rng';

/** Path segments an attacker would try (each one a valid request-target character: the client sends them as is). */
export const HOSTILE_SEGMENTS: readonly string[] = [
  '..',
  '.',
  '%2e%2e',
  '%2F',
  '%00',
  '%zz',
  '%',
  'NODE1',
  '-a',
  'a'.repeat(300),
  'x'.repeat(5000),
  '%E2%80%AE',
  'node1;id',
  "'",
  '"',
  '<x>',
  '\u00e9',
  '$(id)',
  '0',
  '-1',
  '1e999',
  'null',
  '__proto__',
  'constructor',
  'toString',
  '*',
  '@admin',
];

/** Strings for body fields: wrong in every way a string can be. */
export const HOSTILE_STRINGS: readonly string[] = [
  '',
  ' ',
  '..',
  '../../etc/passwd',
  '\u0000',
  'a\nb',
  '🙂',
  '\ud800',
  'a'.repeat(300),
  'b'.repeat(70_000),
  '$(reboot)',
  '__proto__',
  '999.1.1.1',
  '1.2.3',
  '01.2.3.4',
  '1.2.3.4 ',
  '::1',
  '10.0.0.1/24',
  '10.0.0.0/33',
  '10.0.0.0/-1',
  '0.0.0.0/0',
  '255.255.255.255',
  'FA:16:3E:00:00:01',
  'ff:ff:ff:ff:ff:ff',
  '01:00:5e:00:00:01',
];

/** Numbers at and past every bound. */
export const HOSTILE_NUMBERS: readonly number[] = [
  0,
  -1,
  1.5,
  -0,
  1e308,
  -1e308,
  2 ** 53,
  2 ** 53 + 2,
  2 ** 31,
  4094,
  4095,
  16_777_215,
  16_777_216,
  575,
  9000,
];

/** Any JSON value of the wrong kind. */
export function wrongValue(rng: Rng): unknown {
  return rng.weighted<() => unknown>([
    [3, () => rng.pick(HOSTILE_STRINGS)],
    [3, () => rng.pick(HOSTILE_NUMBERS)],
    [1, () => null],
    [1, () => rng.chance(0.5)],
    [1, () => []],
    [1, () => ({})],
    [1, () => [rng.pick(HOSTILE_STRINGS)]],
    [1, () => ({ nested: { deeper: rng.pick(HOSTILE_NUMBERS) } })],
  ])();
}

/** `body` spoiled once: a field dropped, added, or given a wrong value (somewhere in the tree). */
export function mutate(rng: Rng, body: unknown): unknown {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return wrongValue(rng);
  const copy: Record<string, unknown> = { ...(body as Record<string, unknown>) };
  const keys = Object.keys(copy);
  const action = rng.weighted<'drop' | 'extra' | 'wrong' | 'deeper'>([
    [2, 'drop'],
    [1, 'extra'],
    [4, 'wrong'],
    [3, 'deeper'],
  ]);
  const key = keys.length ? rng.pick(keys) : undefined;
  if (key === undefined || action === 'extra') copy[rng.pick(['extra', '__proto__', 'constructor', 'id'])] = 1;
  else if (action === 'drop') delete copy[key];
  else if (action === 'wrong') copy[key] = wrongValue(rng);
  else copy[key] = mutate(rng, copy[key]);
  return copy;
}

/** A body that is not the JSON of an object at all: text, truncated, nested too deep, not UTF-8, too big. */
export function junkBody(rng: Rng, valid: unknown): Buffer {
  const text = JSON.stringify(valid ?? {});
  return rng.weighted<() => Buffer>([
    [3, () => Buffer.from(text.slice(0, rng.int(0, Math.max(0, text.length - 1))))],
    [1, () => Buffer.from('hello, controller')],
    [1, () => Buffer.from('')],
    [1, () => Buffer.from(rng.pick(['null', '[]', '"x"', '123', 'true', '{}', '{"a":1}{"b":2}']))],
    [1, () => Buffer.from('['.repeat(20_000) + ']'.repeat(20_000))],
    [1, () => Buffer.from([0xff, 0xfe, 0x7b, 0x22, 0xc3, 0x28, 0x22, 0x7d])],
    [1, () => Buffer.from(JSON.stringify({ pad: 'p'.repeat(70_000), ...(valid as object) }))],
    [1, () => Buffer.from(`{"__proto__": {"admin": true}, "constructor": {"prototype": {"x": 1}}}`)],
  ])();
}

export const randomIp = (rng: Rng): string => `198.18.${rng.int(0, 3)}.${rng.int(1, 254)}`;
export const randomMac = (rng: Rng): string =>
  ['0a', ...Array.from({ length: 5 }, () => rng.int(0, 255).toString(16).padStart(2, '0'))].join(':');
/** A subnet CIDR for Neutron: mostly /24s of 10.100–10.103, some smaller, some clashing. */
export const randomCidr = (rng: Rng): string =>
  rng.chance(0.8)
    ? `10.${rng.int(100, 103)}.${rng.int(0, 7)}.0/24`
    : `10.${rng.int(100, 103)}.0.${rng.int(0, 15) * 16}/28`;
export const randomName = (rng: Rng, stem: string): string => `${stem}${rng.int(0, 30)}`;
