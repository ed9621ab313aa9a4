// Two real app processes on one KV file, both listening to its queue and
// delivering through one relay: every mail arrives, none twice.
import assert from "node:assert/strict";
import { countByRecipient, startSmtpServer } from "../smtp_server.ts";
import { spawnApp, waitFor } from "./process.ts";
import { seedRegistrations } from "./seed.ts";

const COUNT = 300;

Deno.test("soak: two app processes on one KV file deliver every mail once", async () => {
  const dir = await Deno.makeTempDir();
  const kvPath = `${dir}/kv.sqlite3`;
  const smtp = await startSmtpServer();
  const seeding = await Deno.openKv(kvPath);
  await seedRegistrations(seeding, COUNT, { queue: true });
  seeding.close();
  const env = {
    KV_PATH: kvPath,
    MAIL_BACKEND: "smtp",
    SMTP_HOST: "127.0.0.1",
    SMTP_PORT: String(smtp.port),
  };
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
