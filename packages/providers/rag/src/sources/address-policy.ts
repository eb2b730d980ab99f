import { isIP } from 'node:net';

/** Why an address is refused; undefined when it is a public unicast address. */
export type RefusalReason =
  | 'unspecified'
  | 'loopback'
  | 'private'
  | 'link-local'
  | 'shared'
  | 'reserved'
  | 'multicast'
  | 'unique-local'
  | 'unparsable';

/** IPv4 ranges never fetched by default: `[first octets as a number, prefix length, reason]`. */
const IPV4_REFUSED: [number, number, RefusalReason][] = [
  [ipv4(0, 0, 0, 0), 8, 'unspecified'],
  [ipv4(10, 0, 0, 0), 8, 'private'],
  [ipv4(100, 64, 0, 0), 10, 'shared'], // carrier-grade NAT; some clouds' metadata lives here
  [ipv4(127, 0, 0, 0), 8, 'loopback'],
  [ipv4(169, 254, 0, 0), 16, 'link-local'], // 169.254.169.254: cloud metadata
  [ipv4(172, 16, 0, 0), 12, 'private'],
  [ipv4(192, 0, 0, 0), 24, 'reserved'],
  [ipv4(192, 0, 2, 0), 24, 'reserved'],
  [ipv4(192, 168, 0, 0), 16, 'private'],
  [ipv4(198, 18, 0, 0), 15, 'reserved'],
  [ipv4(198, 51, 100, 0), 24, 'reserved'],
  [ipv4(203, 0, 113, 0), 24, 'reserved'],
  [ipv4(224, 0, 0, 0), 4, 'multicast'],
  [ipv4(240, 0, 0, 0), 4, 'reserved'], // includes 255.255.255.255
];

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/**
 * An IPv4 address in any spelling `inet_aton` accepts, as a 32-bit number: dotted decimal, a single
 * decimal (`2130706433`), hex (`0x7f.0.0.1`, `0x7f000001`), octal (`0177.0.0.1`), and short forms
 * (`127.1`). Undefined when the text is not one.
 */
export function parseIpv4(text: string): number | undefined {
  const parts = text.split('.');
  if (parts.length > 4 || parts.some((part) => part === '')) return undefined;
  const numbers: number[] = [];
  for (const part of parts) {
    let value: number;
    if (/^0x[0-9a-f]*$/i.test(part)) value = part.length === 2 ? 0 : Number.parseInt(part.slice(2), 16);
    else if (/^0[0-7]*$/.test(part)) value = Number.parseInt(part, 8);
    else if (/^[1-9][0-9]*$/.test(part)) value = Number(part);
    else return undefined;
    numbers.push(value);
  }
  const last = numbers.pop()!;
  if (numbers.some((value) => value > 255) || last >= 2 ** (8 * (4 - numbers.length))) return undefined;
  return numbers.reduce((sum, value, index) => sum + value * 2 ** (8 * (3 - index)), 0) + last;
}

/** An IPv6 address (with an optional zone and an embedded dotted IPv4 tail) as eight 16-bit groups. */
export function parseIpv6(text: string): number[] | undefined {
  let address = text.replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const tail = /:(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (tail) {
    const value = isIP(tail[1]!) === 4 ? parseIpv4(tail[1]!) : undefined;
    if (value === undefined) return undefined;
    address = `${address.slice(0, tail.index)}:${(value >>> 16).toString(16)}:${(value & 0xffff).toString(16)}`;
  }
  if (isIP(address) !== 6) return undefined;
  const [head, rest] = address.split('::') as [string, string | undefined];
  const headGroups = head ? head.split(':') : [];
  const restGroups = rest ? rest.split(':') : [];
  const zeros = rest === undefined ? 0 : 8 - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...new Array<string>(zeros).fill('0'), ...restGroups].map((group) =>
    Number.parseInt(group, 16),
  );
  return groups.length === 8 ? groups : undefined;
}

function refusedIpv4(value: number): RefusalReason | undefined {
  for (const [base, prefix, reason] of IPV4_REFUSED) {
    const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
    if ((value & mask) >>> 0 === base) return reason;
  }
  return undefined;
}

function refusedIpv6(groups: number[]): RefusalReason | undefined {
  const [g0, g1, g2, g3, g4, g5, g6, g7] = groups as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const embedded = ((g6 << 16) | g7) >>> 0;
  const upperZero = g0 === 0 && g1 === 0 && g2 === 0 && g3 === 0 && g4 === 0;
  if (upperZero && g5 === 0 && g6 === 0 && (g7 === 0 || g7 === 1))
    return g7 === 0 ? 'unspecified' : 'loopback';
  // IPv4-mapped (::ffff:a.b.c.d), IPv4-compatible (::a.b.c.d) and NAT64 (64:ff9b::a.b.c.d) carry an IPv4 address.
  if (upperZero && (g5 === 0xffff || g5 === 0)) return refusedIpv4(embedded);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 0 && g3 === 0 && g4 === 0 && g5 === 0)
    return refusedIpv4(embedded);
  if (g0 === 0x64 && g1 === 0xff9b && g2 === 1) return 'reserved';
  if (g0 === 0x2002) return refusedIpv4(((g1 << 16) | g2) >>> 0); // 6to4 embeds the IPv4 address in bits 16-47
  if ((g0 & 0xfe00) === 0xfc00) return 'unique-local'; // fc00::/7, includes fd00::/8 (and fd00:ec2::254)
  if ((g0 & 0xffc0) === 0xfe80) return 'link-local';
  if ((g0 & 0xffc0) === 0xfec0) return 'reserved'; // deprecated site-local
  if ((g0 & 0xff00) === 0xff00) return 'multicast';
  if (g0 === 0x2001 && g1 === 0x0db8) return 'reserved';
  if (g0 === 0x0100 && g1 === 0 && g2 === 0 && g3 === 0) return 'reserved'; // discard-only
  return undefined;
}

/**
 * Why an IP address must not be fetched by default (loopback, private, link-local, metadata, …), or
 * undefined for a public unicast address. Accepts every IPv4 spelling of `parseIpv4` and IPv6
 * including IPv4-mapped forms; anything else that is not an address is 'unparsable'.
 */
export function refusalReason(address: string): RefusalReason | undefined {
  const v4 = parseIpv4(address);
  if (v4 !== undefined) return refusedIpv4(v4);
  const v6 = parseIpv6(address);
  if (v6 !== undefined) return refusedIpv6(v6);
  return 'unparsable';
}
