// What a session or an audit event says about the client: the browser and OS
// read from the User-Agent by a small table of patterns, and the address cut
// to its network (an IPv4 /24, an IPv6 /48), enough to recognise "that was my
// phone at home" without keeping where exactly anyone was.
import { isIP } from "node:net";
import { z } from "zod";

export const ClientInfoSchema = z.object({
  /** "Firefox 128", or null when the User-Agent says nothing we know. */
  browser: z.string().max(40).nullable(),
  /** "Windows", "Android", or null. */
  os: z.string().max(40).nullable(),
  /** "203.0.113.x", "2001:db8:1::/48", or null (unknown). */
  address: z.string().max(50).nullable(),
});
export type ClientInfo = z.infer<typeof ClientInfoSchema>;

/** No User-Agent, no address: what an old record or a script shows. */
export const UNKNOWN_CLIENT: ClientInfo = {
  browser: null,
  os: null,
  address: null,
};

/**
 * Browsers, most specific first: Edge, Opera, Samsung Internet and friends
 * all say "Chrome" and "Safari" too, and Chrome says "Safari". The group
 * captures the major version.
 */
const BROWSERS: [RegExp, string][] = [
  [/\bEdg(?:e|A|iOS)?\/(\d{1,5})/, "Edge"],
  [/\bOPR\/(\d{1,5})/, "Opera"],
  [/\bSamsungBrowser\/(\d{1,5})/, "Samsung Internet"],
  [/\bYaBrowser\/(\d{1,5})/, "Yandex Browser"],
  [/\bVivaldi\/(\d{1,5})/, "Vivaldi"],
  [/\bFirefox\/(\d{1,5})/, "Firefox"],
  [/\bFxiOS\/(\d{1,5})/, "Firefox"],
  [/\bCriOS\/(\d{1,5})/, "Chrome"],
  [/\b(?:Headless)?Chrom(?:e|ium)\/(\d{1,5})/, "Chrome"],
  [/\bVersion\/(\d{1,5})[.\d]* (?:Mobile\/\S+ )?Safari\//, "Safari"],
  [/\bcurl\/(\d{1,5})/, "curl"],
  [/\bDeno\/(\d{1,5})/, "Deno"],
];

const SYSTEMS: [RegExp, string][] = [
  [/\b(?:iPhone|iPad|iPod)\b/, "iOS"],
  [/\bAndroid\b/, "Android"],
  [/\bCrOS\b/, "ChromeOS"],
  [/\bWindows\b/, "Windows"],
  [/\bMac OS X\b|\bMacintosh\b/, "macOS"],
  [/\bLinux\b/, "Linux"],
];

/** Longer User-Agents are cut before matching: the patterns need no more. */
const MAX_USER_AGENT = 512;

/** The browser and OS a User-Agent names, each null when unknown. */
export function parseUserAgent(
  userAgent: string | null | undefined,
): { browser: string | null; os: string | null } {
  const ua = (userAgent ?? "").slice(0, MAX_USER_AGENT);
  let browser: string | null = null;
  for (const [pattern, name] of BROWSERS) {
    const match = ua.match(pattern);
    if (match) {
      browser = `${name} ${match[1]}`;
      break;
    }
  }
  const os = SYSTEMS.find(([pattern]) => pattern.test(ua))?.[1] ?? null;
  return { browser, os };
}

/**
 * An address cut to its network: IPv4 keeps three octets ("203.0.113.x"),
 * IPv6 its first 48 bits ("2001:db8:1::/48"), an IPv4-mapped IPv6 address
 * counts as its IPv4. Anything else (a unix socket, "unknown") is null.
 */
export function truncateAddress(ip: string | null | undefined): string | null {
  const bare = (ip ?? "").replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  const mapped = bare.match(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i);
  const v4 = mapped ? mapped[1] : bare;
  if (isIP(v4) === 4) return v4.replace(/\.\d+$/, ".x");
  if (isIP(bare) !== 6) return null;
  const halves = bare.split("::");
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  // An IPv4 tail ("64:ff9b::192.0.2.1") is two groups; it never reaches the
  // first 48 bits unless the head is short, so it reads as zeros there.
  const tailGroups = tail.flatMap((g) => g.includes(".") ? ["0", "0"] : [g]);
  const groups = [
    ...head,
    ...Array(Math.max(0, 8 - head.length - tailGroups.length)).fill("0"),
    ...tailGroups,
  ];
  const network = groups.slice(0, 3).map((g) => parseInt(g, 16).toString(16));
  return `${network.join(":")}::/48`;
}

/** What a session or an event keeps about the client that made it. */
export function describeClient(
  userAgent: string | null | undefined,
  ip: string | null | undefined,
): ClientInfo {
  return { ...parseUserAgent(userAgent), address: truncateAddress(ip) };
}
