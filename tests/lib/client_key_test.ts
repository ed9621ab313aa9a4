import assert from "node:assert/strict";
import { clientKey, clientNetwork } from "../../lib/web/request_limits.tsx";

Deno.test("clientKey: IPv4 as is, IPv6 as its /64, anything odd unchanged", () => {
  const cases: [string, string][] = [
    ["203.0.113.9", "203.0.113.9"],
    ["2001:db8::1", "2001:db8:0:0::/64"],
    ["2001:db8:0:0:1::", "2001:db8:0:0::/64"],
    ["[2001:db8:aa:bb::1]", "2001:db8:aa:bb::/64"],
    ["fe80::1%eth0", "fe80:0:0:0::/64"],
    ["::1", "0:0:0:0::/64"],
    ["::", "0:0:0:0::/64"],
    ["::ffff:198.51.100.4", "198.51.100.4"],
    ["2001:db8::1::2", "2001:db8::1::2"],
    ["1:2:3:4:5:6:7", "1:2:3:4:5:6:7"],
    ["1:2:3:4:5:6:7:8:9", "1:2:3:4:5:6:7:8:9"],
    ["g::1", "g::1"],
    ["unknown", "unknown"],
  ];
  for (const [ip, key] of cases) assert.equal(clientKey(ip), key, ip);
});

Deno.test("clientNetwork: an IPv6 /64 counts as its /48, the rest as they are", () => {
  const cases: [string, string][] = [
    ["2001:db8:1:2::/64", "2001:db8:1::/48"],
    ["2001:db8:1:ffff::/64", "2001:db8:1::/48"],
    ["0:0:0:0::/64", "0:0:0::/48"],
    ["203.0.113.9", "203.0.113.9"],
    ["unknown", "unknown"],
    ["g::1", "g::1"],
  ];
  for (const [key, network] of cases) {
    assert.equal(clientNetwork(key), network, key);
  }
  assert.equal(
    clientNetwork(clientKey("2001:DB8:1:2:3:4:5:6")),
    clientNetwork(clientKey("2001:db8:1:9::1")),
  );
});
