// Mail backends against their contract: the SMTP one against a real
// smtp-server on 127.0.0.1, the others in memory.
import assert from "node:assert/strict";
import { silentLogger } from "../../lib/app/log.ts";
import { assertSafeMail } from "../../lib/mail/headers.ts";
import {
  createConsoleMailer,
  createMailer,
  createMemoryMailer,
  createSmtpMailer,
  InvalidMailError,
  type Mail,
  type Mailer,
  type MemoryMailer,
} from "../../lib/mail/index.ts";
import { freePort, startSmtpServer } from "../smtp_server.ts";

const FROM = "cloud-user <no-reply@cloud-user.test>";
const LINK =
  "http://localhost:8000/activate/eyJ1c2VySWQiOiIwMTkyIn0.c2lnbmF0dXJl";
const MAIL: Mail = {
  to: "zoe@example.test",
  subject: "Activate your cloud-user account",
  text: `Bienvenue, Zoé!\n\nActivate your account: ${LINK}\n`,
  html:
    `<p>Bienvenue, Zoé!</p><p><a href="${LINK}">Activate your account</a></p>`,
};

function smtpMailer(
  port: number,
  auth: { user?: string; password?: string } = {},
): Mailer {
  return createSmtpMailer({
    from: FROM,
    smtp: { host: "127.0.0.1", port, secure: false, ...auth },
    logger: silentLogger,
    // smtp-server's built-in test certificate is self-signed.
    tls: { rejectUnauthorized: false },
  });
}

Deno.test("smtp: delivers subject, recipient and both bodies to a real server", async () => {
  const server = await startSmtpServer();
  const mailer = smtpMailer(server.port);
  try {
    await mailer.send(MAIL);
  } finally {
    await mailer.close();
    await server.close();
  }
  assert.equal(server.received.length, 1);
  const [got] = server.received;
  assert.deepEqual(got.rcptTo, ["zoe@example.test"]);
  assert.equal(got.mailFrom, "no-reply@cloud-user.test");
  assert.equal(got.subject, MAIL.subject);
  assert.match(got.from, /cloud-user"? <no-reply@cloud-user\.test>$/);
  assert.equal(got.to, "zoe@example.test");
  assert.match(got.text, /Bienvenue, Zoé!/);
  assert.ok(got.text.includes(LINK));
  assert.match(got.html, /Bienvenue, Zoé!/);
  assert.ok(got.html.includes(`href="${LINK}"`));
});

Deno.test("smtp: consecutive mails reuse one pooled connection", async () => {
  const server = await startSmtpServer();
  const mailer = smtpMailer(server.port);
  try {
    await mailer.send(MAIL);
    await mailer.send({ ...MAIL, to: "ada@example.test" });
  } finally {
    await mailer.close();
    await server.close();
  }
  assert.deepEqual(server.received.map((r) => r.rcptTo), [
    ["zoe@example.test"],
    ["ada@example.test"],
  ]);
  assert.equal(server.connections(), 1);
});

Deno.test("smtp: logs in with the configured user, and wrong credentials reject", async () => {
  // STARTTLS stays on: the mailer will not send a password in clear.
  const server = await startSmtpServer({
    authOptional: false,
    disabledCommands: [],
    onAuth(auth, _session, callback) {
      if (auth.username === "app" && auth.password === "s3cret") {
        return callback(null, { user: auth.username });
      }
      callback(new Error("Invalid username or password"));
    },
  });
  const good = smtpMailer(server.port, { user: "app", password: "s3cret" });
  const bad = smtpMailer(server.port, { user: "app", password: "wrong" });
  try {
    await good.send(MAIL);
    await assert.rejects(bad.send(MAIL), { code: "EAUTH" });
  } finally {
    await good.close();
    await bad.close();
    await server.close();
  }
  assert.equal(server.received.length, 1);
  assert.equal(server.received[0].user, "app");
  assert.equal(server.received[0].secure, true);
});

Deno.test("smtp: credentials are never sent to a server without TLS", async () => {
  let authAttempts = 0;
  const server = await startSmtpServer({
    authOptional: false,
    allowInsecureAuth: true,
    onAuth(_auth, _session, callback) {
      authAttempts++;
      callback(null, { user: "app" });
    },
  });
  const mailer = smtpMailer(server.port, { user: "app", password: "s3cret" });
  try {
    await assert.rejects(mailer.send(MAIL), { code: "ETLS" });
  } finally {
    await mailer.close();
    await server.close();
  }
  assert.equal(authAttempts, 0);
  assert.equal(server.received.length, 0);
});

Deno.test("smtp: a server that is down makes send reject", async () => {
  const mailer = smtpMailer(freePort());
  try {
    await assert.rejects(mailer.send(MAIL), /ECONNREFUSED/);
  } finally {
    await mailer.close();
  }
});

Deno.test("smtp: send after close rejects instead of waiting forever", async () => {
  const mailer = smtpMailer(freePort());
  await mailer.close();
  await mailer.close();
  await assert.rejects(mailer.send(MAIL), /closed/);
});

Deno.test("headers: a line break in to, subject or from is refused by every backend", async () => {
  const evil = "\r\nBcc: x@evil.example";
  const cases: { mail: Mail; from: string }[] = [
    { mail: { ...MAIL, subject: MAIL.subject + evil }, from: FROM },
    { mail: { ...MAIL, subject: "Hi\nBcc: x@evil.example" }, from: FROM },
    { mail: { ...MAIL, to: MAIL.to + evil }, from: FROM },
    { mail: { ...MAIL, to: "  " }, from: FROM },
    { mail: MAIL, from: FROM + evil },
  ];
  const server = await startSmtpServer();
  const printed: string[] = [];
  try {
    for (const { mail, from } of cases) {
      assert.throws(() => assertSafeMail(mail, from), InvalidMailError);
      const memory = createMemoryMailer({ from });
      const smtp = createSmtpMailer({
        from,
        smtp: { host: "127.0.0.1", port: server.port, secure: false },
      });
      const printer = createConsoleMailer({
        from,
        write: (t) => printed.push(t),
      });
      for (const mailer of [memory, smtp, printer]) {
        await assert.rejects(mailer.send(mail), InvalidMailError);
        await mailer.close();
      }
      assert.deepEqual(memory.sent, []);
    }
  } finally {
    await server.close();
  }
  assert.deepEqual(printed, []);
  assert.equal(server.connections(), 0);
  assert.deepEqual(server.received, []);
});

Deno.test("console: prints from, to, subject and both bodies in one block", async () => {
  const printed: string[] = [];
  const mailer = createConsoleMailer({
    from: FROM,
    write: (t) => printed.push(t),
  });
  await mailer.send(MAIL);
  await mailer.close();
  assert.equal(printed.length, 1);
  const [block] = printed;
  assert.match(block, /^From: cloud-user <no-reply@cloud-user\.test>$/m);
  assert.match(block, /^To: zoe@example\.test$/m);
  assert.match(block, /^Subject: Activate your cloud-user account$/m);
  assert.ok(block.includes(MAIL.text));
  assert.ok(block.includes(MAIL.html));
  assert.ok(block.indexOf(MAIL.text) < block.indexOf(MAIL.html));
});

Deno.test("memory: waitFor resolves once enough mails are sent", async () => {
  const mailer = createMemoryMailer({ from: FROM });
  const waiting = mailer.waitFor(2);
  await mailer.send(MAIL);
  await mailer.send({ ...MAIL, to: "ada@example.test" });
  const mails = await waiting;
  assert.deepEqual(mails.map((m) => [m.to, m.from]), [
    ["zoe@example.test", FROM],
    ["ada@example.test", FROM],
  ]);
  assert.equal((await mailer.waitFor(1)).length, 2);
});

Deno.test("memory: waitFor rejects with a clear error on timeout", async () => {
  const mailer = createMemoryMailer({ from: FROM });
  await mailer.send(MAIL);
  await assert.rejects(
    mailer.waitFor(2, 20),
    { message: "memory mailer: expected 2 mail(s) within 20 ms, got 1" },
  );
});

Deno.test("memory: failNext rejects the next sends, then delivery recovers", async () => {
  const mailer = createMemoryMailer({ from: FROM });
  const outage = new Error("relay down");
  mailer.failNext(2, outage);
  await assert.rejects(mailer.send(MAIL), outage);
  await assert.rejects(mailer.send(MAIL), outage);
  await mailer.send(MAIL);
  mailer.failNext(1);
  await assert.rejects(mailer.send(MAIL), /simulated failure/);
  assert.equal(mailer.sent.length, 1);
  await mailer.close();
  await assert.rejects(mailer.send(MAIL), /closed/);
});

Deno.test("createMailer: builds the configured backend", async () => {
  const config = {
    from: FROM,
    smtp: { host: "127.0.0.1", port: freePort(), secure: false },
    resend: { apiKey: "re_test" },
    maxPerSecond: 0,
    maxAttempts: 10,
    maxAgeMs: 86_400_000,
  };
  const memory = createMailer({ ...config, backend: "memory" }, silentLogger);
  await memory.send(MAIL);
  assert.equal(
    (memory as MemoryMailer).sent.length,
    1,
  );
  const smtp = createMailer({ ...config, backend: "smtp" }, silentLogger);
  await assert.rejects(smtp.send(MAIL), /ECONNREFUSED/);
  await smtp.close();
  await memory.close();
});
