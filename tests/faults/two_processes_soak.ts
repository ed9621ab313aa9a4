// Two real app processes on one KV file, both listening to its queue and
// delivering through one relay: every mail arrives, none twice.
import assert from "node:assert/strict";
import { countByRecipient, startSmtpServer } from "../smtp_server.ts";
import { spawnApp, waitFor } from "./process.ts";
import { seedQueuedKvFile } from "./seed.ts";

const COUNT = 300;

Deno.test("soak: two app processes on one KV file deliver every mail once", async () => {
  const smtp = await startSmtpServer();
  const { dir, env } = await seedQueuedKvFile(COUNT, smtp.port);
  const apps = await Promise.all([spawnApp(env), spawnApp(env)]);
  try {
    await waitFor(
      `${COUNT} recipients`,
      () => countByRecipient(smtp.received).size >= COUNT,
      120_000,
    );
    // Time for a late duplicate to show up.
    await new Promise((r) => setTimeout(r, 2_000));
    const counts = countByRecipient(smtp.received);
    const twice = [...counts.values()].filter((n) => n > 1).length;
    assert.equal(counts.size, COUNT);
    assert.equal(twice, 0);
    console.log(
      `2 processes, 1 KV file, ${COUNT} queued signals → ${counts.size} recipients, ${smtp.received.length} mails, ${twice} twice`,
    );
  } finally {
    for (const app of apps) app.kill("SIGTERM");
    await Promise.all(apps.map((a) => a.exited));
    await smtp.close();
    await Deno.remove(dir, { recursive: true });
  }
});
