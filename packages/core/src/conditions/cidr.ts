/** An address as four 32-bit words; IPv4 a.b.c.d is stored as ::ffff:a.b.c.d. */
export type Address = readonly [number, number, number, number];

export interface CidrBlock {
  readonly address: Address;
  readonly prefix: number;
}

function parseIpv4(input: string): number | undefined {
  const parts = input.split('.');
  if (parts.length !== 4) return undefined;
  let value = 0;
  for (const part of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(part)) return undefined;
    const n = Number(part);
    if (n > 255) return undefined;
    value = value * 256 + n;
  }
  return value;
}

function parseIpv6(input: string): Address | undefined {
  let text = input;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    // An embedded IPv4 tail (::ffff:1.2.3.4) becomes its two hex groups.
    const v4 = parseIpv4(text.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    text = text.slice(0, lastColon + 1) + (v4 >>> 16).toString(16) + ':' + (v4 & 0xffff).toString(16);
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = parse(halves[0] ?? '');
  const rest = halves.length === 2 ? parse(halves[1] ?? '') : [];
  if (head === undefined || rest === undefined) return undefined;
  const words: number[] = [];
  if (halves.length === 2) {
    const fill = 8 - head.length - rest.length;
    if (fill < 1) return undefined;
    words.push(...head, ...new Array<number>(fill).fill(0), ...rest);
  } else {
    words.push(...head);
  }
  if (words.length !== 8) return undefined;
  const w = (i: number) => (((words[i] ?? 0) << 16) | (words[i + 1] ?? 0)) >>> 0;
  return [w(0), w(2), w(4), w(6)];
}

/** Parses an IPv4 or IPv6 address; undefined when it is neither. */
export function parseAddress(input: string): Address | undefined {
  if (input.includes(':')) return parseIpv6(input);
  const v4 = parseIpv4(input);
  return v4 === undefined ? undefined : [0, 0, 0xffff, v4];
}

/** Parses `addr/prefix` or a bare address (a one-host block). */
export function parseCidr(input: string): CidrBlock | undefined {
  const slash = input.indexOf('/');
  const addrText = slash < 0 ? input : input.slice(0, slash);
  const address = parseAddress(addrText);
  if (address === undefined) return undefined;
  const v4 = !addrText.includes(':');
  const max = v4 ? 32 : 128;
  let prefix = max;
  if (slash >= 0) {
    const p = input.slice(slash + 1);
    if (!/^(0|[1-9]\d{0,2})$/.test(p) || Number(p) > max) return undefined;
    prefix = Number(p);
  }
  return { address, prefix: v4 ? prefix + 96 : prefix };
}

export function inBlock(address: Address, block: CidrBlock): boolean {
  let bits = block.prefix;
  for (let i = 0; i < 4 && bits > 0; i++) {
    const take = bits >= 32 ? 32 : bits;
    const mask = take === 32 ? 0xffffffff : ~(0xffffffff >>> take) >>> 0;
    if (((address[i]! & mask) >>> 0) !== ((block.address[i]! & mask) >>> 0)) return false;
    bits -= take;
  }
  return true;
}
