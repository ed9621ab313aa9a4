import assert from "node:assert/strict";
import {
  describeClient,
  parseUserAgent,
  truncateAddress,
} from "../../lib/accounts/devices.ts";

const AGENTS: [string, string | null, string | null][] = [
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Chrome 126",
    "Windows",
  ],
  [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Firefox 128",
    "Linux",
  ],
  [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Safari 17",
    "iOS",
  ],
  [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4 Safari/605.1.15",
    "Safari 17",
    "macOS",
  ],
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36 Edg/126.0.2592.87",
    "Edge 126",
    "Windows",
  ],
  [
    "Mozilla/5.0 (Linux; Android 14; SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/25.0 Chrome/121.0.0.0 Mobile Safari/537.36",
    "Samsung Internet 25",
    "Android",
  ],
  [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 YaBrowser/24.6.0.0 Safari/537.36",
    "Yandex Browser 24",
    "Windows",
  ],
  [
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/126.0.6478.54 Mobile/15E148 Safari/604.1",
    "Chrome 126",
    "iOS",
  ],
  [
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
    "Chrome 126",
    "ChromeOS",
  ],
  [
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/126.0.0.0 Safari/537.36",
    "Chrome 126",
    "Linux",
  ],
  ["curl/8.5.0", "curl 8", null],
  ["", null, null],
  ["something nobody knows", null, null],
];

for (const [ua, browser, os] of AGENTS) {
  Deno.test(`devices: "${ua.slice(0, 50)}…" reads as ${browser} on ${os}`, () => {
    assert.deepEqual(parseUserAgent(ua), { browser, os });
  });
}

Deno.test("devices: a User-Agent of any length gives short names", () => {
  const huge = "Firefox/" + "9".repeat(10_000);
  const { browser } = parseUserAgent(huge);
  assert.ok(browser === null || browser.length <= 40, String(browser));
  assert.deepEqual(parseUserAgent(undefined), { browser: null, os: null });
});

const ADDRESSES: [string, string | null][] = [
  ["203.0.113.77", "203.0.113.x"],
  ["::ffff:203.0.113.77", "203.0.113.x"],
  ["2001:db8:abcd:12::7", "2001:db8:abcd::/48"],
  ["2001:0db8:00ab:ffff:1:2:3:4", "2001:db8:ab::/48"],
  ["[2001:db8::1]", "2001:db8:0::/48"],
  ["fe80::1%eth0", "fe80:0:0::/48"],
  ["unknown", null],
  ["", null],
  ["203.0.113", null],
];

for (const [ip, cut] of ADDRESSES) {
  Deno.test(`devices: the address ${JSON.stringify(ip)} is kept as ${cut}`, () => {
    assert.equal(truncateAddress(ip), cut);
  });
}

Deno.test("devices: a client is its device and its network, nothing finer", () => {
  assert.deepEqual(
    describeClient("curl/8.5.0", "198.51.100.200"),
    { browser: "curl 8", os: null, address: "198.51.100.x" },
  );
});
