-- Shared by every scenario: collects each thread's "bad" count (a response
-- that was not the expected one) and prints one JSON line run.ts parses.
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

function done(summary, latency, requests)
  local bad = 0
  local exhausted = 0
  for _, t in ipairs(threads) do
    bad = bad + (t:get("bad") or 0)
    exhausted = exhausted + (t:get("exhausted") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"socket_errors":%d,' ..
    '"non_2xx_3xx":%d,"timeouts":%d,"bad":%d,"exhausted":%d,' ..
    '"p50_us":%d,"p99_us":%d,"max_us":%d}\n',
    summary.requests, summary.duration, e.connect + e.read + e.write,
    e.status, e.timeout, bad, exhausted,
    latency:percentile(50), latency:percentile(99), latency.max))
end
