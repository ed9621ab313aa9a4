// Baseline for mail delivery: 1,000 mails through pooled nodemailer (the same
// pool size as lib/mail/smtp.ts) to the bench's loopback SMTP server, all
// handed over at once. args: port count
import nodemailer from "nodemailer";

const [port, count] = Deno.args.map(Number);
const transport = nodemailer.createTransport({
  pool: true,
  maxConnections: 5,
  host: "127.0.0.1",
  port,
  secure: false,
});
const html = `<p>Hello Bench,</p><p><a href="http://127.0.0.1/activate/${
  "x".repeat(120)
}">Activate</a></p>`;
await Promise.all(
  Array.from({ length: count }, (_, i) =>
    transport.sendMail({
      from: "cloud-user <no-reply@localhost>",
      to: `baseline${i}@example.com`,
      subject: "Activate your cloud-user account",
      text: `Hello Bench,\n\nhttp://127.0.0.1/activate/${"x".repeat(120)}\n`,
      html,
    })),
);
transport.close();
console.log(JSON.stringify({ sent: count }));
