// A log reader that stops reading (a stalled shipper, a full terminal) must
// not stop the server: main.ts as a real process, its stdout a pipe nobody
// reads while requests arrive. Every request is answered, the dropped lines
// are counted in /healthz and reported once the pipe is read again, and with
// LOG_FORMAT=json every line the process wrote, start-up and shutdown
// included, is JSON.
import assert from "node:assert/strict";
import { childEnv } from "./process.ts";

const ROOT = new URL("../../", import.meta.url);
const REQUESTS = 1_000;

Deno.test("log stall: requests are answered while stdout is not read; drops are counted and reported", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", "main.ts"],
    cwd: ROOT,
    clearEnv: true,
    env: childEnv({
      KV_PATH: ":memory:",
      MAIL_BACKEND: "memory",
      LOG_FORMAT: "json",
      LOG_BUFFER_LINES: "16",
    }),
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const decoder = new TextDecoder();
  let text = "";
  const reader = child.stdout.getReader();
  let url: string | undefined;
  while (!url) {
    const { value, done } = await reader.read();
    if (done) assert.fail(`app exited before listening:\n${text}`);
    text += decoder.decode(value, { stream: true });
    url = /listening on (http:\/\/[\d.:]+)/.exec(text)?.[1];
  }
  // From here on nobody reads stdout until every request is answered.
  try {
    let next = 0;
    const statuses: number[] = [];
    const worker = async () => {
      while (next < REQUESTS) {
        next++;
        const res = await fetch(`${url}/register`, {
          signal: AbortSignal.timeout(10_000),
        });
        await res.body?.cancel();
        statuses.push(res.status);
      }
    };
    await Promise.all(Array.from({ length: 8 }, worker));
    assert.equal(statuses.length, REQUESTS);
    assert.ok(statuses.every((s) => s === 200), "every request answered");

    const health = await (await fetch(`${url}/healthz`)).json();
    assert.ok(health.log.dropped > 0, JSON.stringify(health.log));

    // Read again: the drop report arrives.
    while (!/"msg":"log lines dropped"/.test(text)) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const report = text.split("\n").find((l) => l.includes("lines dropped"));
    assert.ok(report, "the drop count is logged");
    assert.ok(JSON.parse(report).count > 0);
  } finally {
    child.kill("SIGTERM");
  }
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  const status = await child.status;
  const stderr = decoder.decode(
    await new Response(child.stderr).arrayBuffer(),
  );
  assert.equal(status.code, 0, stderr);
  assert.equal(stderr, "");
  const lines = text.split("\n").filter(Boolean);
  for (const line of lines) JSON.parse(line); // every line is JSON
  const msgs = lines.map((l) => JSON.parse(l).msg);
  assert.ok(msgs.some((m) => /listening on/.test(m)));
  assert.ok(msgs.includes("shutting down"));
  assert.equal(msgs.at(-1), "stopped");
});
