// Two deliverers on two KV handles of one database file (as two instances
// would be) sweep the same outbox at once: every mail goes out exactly once.
import assert from "node:assert/strict";
import { createDeliverer } from "../../lib/outbox/deliver.ts";
import { createEmailRenderer } from "../../lib/mail/templates.ts";
import { silentLogger } from "../../lib/app/log.ts";
import { createSmtpMailer } from "../../lib/mail/smtp.ts";
import { createPasswordHasher } from "../../lib/security/passwords.ts";
import { createSigner } from "../../lib/security/signing.ts";
import { TEST_SECRET, TestClock, testConfig } from "../helpers.ts";
import { countByRecipient, startSmtpServer } from "../smtp_server.ts";
import { seedRegistrations } from "./seed.ts";
import { keys } from "../../lib/kv/keys.ts";

const COUNT = 100;

Deno.test("two deliverers on one KV file → every mail delivered, none twice", async () => {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite3`;
  const smtp = await startSmtpServer();
  const config = testConfig({ KV_PATH: path });
  const clock = new TestClock();
  const signer = await createSigner(TEST_SECRET);
  const instances = await Promise.all([1, 2].map(async () => {
    const kv = await Deno.openKv(path);
    const mailer = createSmtpMailer({
      from: config.mail.from,
      smtp: { host: "127.0.0.1", port: smtp.port, secure: false },
    });
    const passwords = await createPasswordHasher({ workers: 0 });
    const deliverer = createDeliverer(
      { kv, config, mailer, log: silentLogger, clock, signer, passwords },
      createEmailRenderer(),
    );
    return { kv, mailer, passwords, deliverer };
  }));
  try {
    await seedRegistrations(instances[0].kv, COUNT, {
      queue: false,
      now: clock.now(),
    });
    // Like two cron runs at once, repeated until the outbox is empty: a
    // busy database may make one instance leave an entry for the next run.
    const reports = instances.map(() => ({ sent: 0, failed: 0, skipped: 0 }));
    let rounds = 0;
    for (; rounds < 10; rounds++) {
      const round = await Promise.all(
        instances.map((i) => i.deliverer.sweep({ minAgeMs: 0 })),
      );
      round.forEach((r, n) => {
        reports[n].sent += r.sent;
        reports[n].failed += r.failed;
      });
      let left = 0;
      for await (const _ of instances[0].kv.list({ prefix: keys.outbox() })) {
        left++;
      }
      if (left === 0) break;
    }
    const counts = countByRecipient(smtp.received);
    assert.equal(counts.size, COUNT);
    const twice = [...counts.values()].filter((n) => n > 1).length;
    assert.equal(twice, 0);
    assert.equal(reports[0].sent + reports[1].sent, COUNT);
    assert.equal(reports[0].failed + reports[1].failed, 0);
    console.log(
      `2 deliverers on one KV file, ${COUNT} signals → sent ${
        reports[0].sent
      } + ${reports[1].sent}, ${counts.size} recipients, ${twice} twice`,
    );
  } finally {
    for (const i of instances) {
      await i.mailer.close();
      i.passwords.close();
      i.kv.close();
    }
    await smtp.close();
    await Deno.remove(dir, { recursive: true });
  }
});
