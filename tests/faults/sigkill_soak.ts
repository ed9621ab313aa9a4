// SIGKILL in the middle of 500 deliveries, then a restart: every mail arrives
// (at-least-once), and the duplicates are counted: at most the mails in
// flight at the kill.
import assert from "node:assert/strict";
import type { OutboxEntry } from "../../lib/outbox/signals.ts";
import { countByRecipient, startSmtpServer } from "../smtp_server.ts";
import { spawnApp, waitFor } from "./process.ts";
import { seedQueuedKvFile } from "./seed.ts";
import { keys } from "../../lib/kv/keys.ts";

const COUNT = 500;

Deno.test("soak: SIGKILL during 500 deliveries, restart → every mail arrives", async () => {
  // A relay slow enough that the kill lands mid-delivery.
  const smtp = await startSmtpServer({}, {
    beforeAccept: () => new Promise((r) => setTimeout(r, 5)),
  });
  const { dir, kvPath, env } = await seedQueuedKvFile(COUNT, smtp.port);
  const first = await spawnApp(env);
  let second: Awaited<ReturnType<typeof spawnApp>> | null = null;
  try {
    await waitFor("150 mails", () => smtp.received.length >= 150, 60_000);
    first.kill("SIGKILL");
    await first.exited;
    const atKill = smtp.received.length;

    // What the dead process left claimed: the mails that may repeat.
    const kv = await Deno.openKv(kvPath);
    let leased = 0;
    let left = 0;
    for await (const e of kv.list<OutboxEntry>({ prefix: keys.outbox() })) {
      left++;
      if (e.value.leaseUntil > Date.now()) leased++;
    }
    kv.close();

    const restarted = performance.now();
    second = await spawnApp(env);
    // Leased entries wait for their lease (60 s) and the next cron sweep.
    await waitFor(
      `${COUNT} recipients`,
      () => countByRecipient(smtp.received).size >= COUNT,
      200_000,
    );
    await new Promise((r) => setTimeout(r, 2_000));
    const counts = countByRecipient(smtp.received);
    const duplicates = [...counts.values()].reduce((s, n) => s + n - 1, 0);
    console.log(
      `SIGKILL after ${atKill} of ${COUNT} mails (${left} signals left, ${leased} in flight) → after restart ${counts.size}/${COUNT} recipients in ${
        ((performance.now() - restarted) / 1000).toFixed(0)
      } s, ${duplicates} duplicates`,
    );
    assert.equal(counts.size, COUNT);
    assert.ok(
      duplicates <= leased,
      `${duplicates} duplicates > ${leased} in flight`,
    );
  } finally {
    first.kill("SIGKILL");
    second?.kill("SIGTERM");
    await second?.exited;
    await smtp.close();
    await Deno.remove(dir, { recursive: true });
  }
});
