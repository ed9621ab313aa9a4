// Baseline for mail delivery: the same activation mails the app sends
// (rendered by the app's own templates, so nodemailer encodes the same
// bytes), handed to pooled nodemailer (the pool size of lib/mail/smtp.ts)
// for the bench's loopback SMTP server, at most as many at once as the app's
// outbox sends (MAX_SENDING). args: port count
import nodemailer from "nodemailer";
import process from "node:process";
import { createEmailRenderer } from "../../lib/mail/templates.ts";
import { MAX_SENDING } from "../../lib/outbox/deliver.ts";

const [port, count] = Deno.args.map(Number);
const transport = nodemailer.createTransport({
  pool: true,
  maxConnections: 5,
  host: "127.0.0.1",
  port,
  secure: false,
});
// Rendered before the clock starts: rendering is the app's work, not the
// baseline's. The link is as long as a signed activation token's.
const emails = createEmailRenderer();
const origin = "http://127.0.0.1:8000";
const mails = await Promise.all(
  Array.from({ length: count }, async (_, i) => ({
    to: `baseline${i}@example.com`,
    ...await emails.render("activation", "en", {
      first_name: "Bench",
      app_name: "cloud-user",
      app_origin: origin,
      logo_url: "",
      link: `${origin}/activate/${String(i).padStart(170, "x")}`,
      lifetime: "7 days",
    }),
  })),
);
// CPU time of the sending alone (every thread of this process), for the
// bench's per-mail CPU figure, which a busy machine moves less than rates.
const cpuBefore = process.cpuUsage();
// Handed all 1,000 at once, nodemailer compiled every message (350-500 ms)
// before the first one left, outside the window the sink times (first mail
// received to last), while the app compiles each of its mails inside it.
let next = 0;
await Promise.all(
  Array.from({ length: MAX_SENDING }, async () => {
    while (next < mails.length) {
      const mail = mails[next++];
      await transport.sendMail({
        from: "cloud-user <no-reply@localhost>",
        ...mail,
      });
    }
  }),
);
const cpu = process.cpuUsage(cpuBefore);
transport.close();
console.log(
  JSON.stringify({ sent: count, cpuMs: (cpu.user + cpu.system) / 1000 }),
);
