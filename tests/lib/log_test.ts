// The logger's buffer: a slow output costs dropped lines (counted, then
// reported), never a caller that waits; errors keep their stacks.
import assert from "node:assert/strict";
import { createLogger, type LogOutput } from "../../lib/app/log.ts";

/** An output whose writes hang until `release()`, like a pipe nobody reads. */
function stalledOutput() {
  const written: string[] = [];
  let gate = Promise.withResolvers<void>();
  const output: LogOutput = {
    async write(bytes) {
      await gate.promise;
      written.push(new TextDecoder().decode(bytes));
      return bytes.length;
    },
  };
  return {
    output,
    lines: () => written.join("").split("\n").filter(Boolean),
    release() {
      gate.resolve();
      gate = Promise.withResolvers<void>();
      gate.resolve();
    },
  };
}

for (const format of ["text", "json"] as const) {
  Deno.test(`log (${format}): a stalled output drops lines past the buffer, counts them, and says so once it resumes`, async () => {
    const out = stalledOutput();
    const log = createLogger({ format, output: out.output, bufferLines: 4 });
    const started = performance.now();
    for (let i = 0; i < 20; i++) log.info("request", { n: i });
    // Nothing waited: twenty calls against an output that never returned.
    assert.ok(performance.now() - started < 1000);
    // Four wait for their batch, sixteen are dropped.
    assert.equal(log.dropped(), 16);
    assert.deepEqual(out.lines(), []);
    out.release();
    await log.flush();
    const lines = out.lines();
    assert.equal(lines.length, 5, lines.join("\n"));
    const last = lines.at(-1)!;
    if (format === "json") {
      const parsed = lines.map((l) => JSON.parse(l));
      assert.deepEqual(parsed.slice(0, 4).map((p) => p.n), [0, 1, 2, 3]);
      assert.equal(parsed[4].level, "warn");
      assert.equal(parsed[4].msg, "log lines dropped");
      assert.equal(parsed[4].count, 16);
    } else {
      assert.match(lines[3], / INFO request n=3$/);
      assert.match(last, / WARN log lines dropped count=16 /);
    }
    // Reported once: more lines bring no second report.
    log.info("later");
    await log.flush();
    assert.equal(out.lines().length, 6);
    assert.equal(log.dropped(), 16);
  });

  Deno.test(`log (${format}): request lines go out in batches, a warning at once`, async () => {
    const writes: string[] = [];
    const output: LogOutput = {
      write(bytes) {
        writes.push(new TextDecoder().decode(bytes));
        return Promise.resolve(bytes.length);
      },
    };
    const log = createLogger({ format, output });
    for (let i = 0; i < 50; i++) log.info("request", { n: i });
    // Nothing written yet: the fifty wait for their batch...
    assert.equal(writes.length, 0);
    await new Promise((r) => setTimeout(r, 50));
    // ...and leave in one write, in order.
    assert.equal(writes.length, 1);
    assert.equal(writes[0].trimEnd().split("\n").length, 50);
    log.warn("disk almost full");
    assert.equal(writes.length, 2, "a warning does not wait for a batch");
    log.info("one more");
    await log.flush();
    assert.equal(writes.length, 3, "flush writes a waiting batch");
  });

  Deno.test(`log (${format}): an error keeps its message and its stack`, async () => {
    const out = stalledOutput();
    out.release();
    const log = createLogger({ format, output: out.output });
    log.error("unhandled error", { error: new Error("kv went away") });
    await log.flush();
    const [line] = out.lines();
    assert.equal(out.lines().length, 1, "one line, stack included");
    if (format === "json") {
      const parsed = JSON.parse(line);
      assert.equal(parsed.error, "kv went away");
      assert.match(parsed.error_stack, /^Error: kv went away\n\s+at /);
      assert.match(parsed.error_stack, /log_test\.ts/);
    } else {
      assert.match(line, /ERROR unhandled error error="kv went away"/);
      assert.match(
        line,
        /error_stack="Error: kv went away\\n\s+at .*log_test\.ts/,
      );
    }
  });
}

Deno.test("log: notice lines are written whatever the level", async () => {
  const out = stalledOutput();
  out.release();
  const log = createLogger({
    format: "json",
    level: "error",
    output: out.output,
  });
  log.warn("hidden");
  log.notice("app listening on http://127.0.0.1:1");
  await log.flush();
  assert.deepEqual(out.lines().map((l) => JSON.parse(l).level), ["notice"]);
});

Deno.test("log: a printed block stays readable in text and one JSON line in JSON", async () => {
  for (const format of ["text", "json"] as const) {
    const out = stalledOutput();
    out.release();
    const log = createLogger({ format, level: "error", output: out.output });
    log.print(
      "mail printed",
      "To: a@example.com\n\nhttp://app.test/activate/x",
    );
    await log.flush();
    const lines = out.lines();
    if (format === "text") {
      assert.match(lines[0], / NOTICE mail printed$/);
      assert.deepEqual(lines.slice(1), [
        "To: a@example.com",
        "http://app.test/activate/x",
      ]);
    } else {
      assert.equal(lines.length, 1);
      assert.equal(
        JSON.parse(lines[0]).text,
        "To: a@example.com\n\nhttp://app.test/activate/x",
      );
    }
  }
});
