// Production backend: delivers through an SMTP relay over a small pool of
// reused connections, so a burst of sign-ups does not open one socket each.
import type { EventEmitter } from "node:events";
import nodemailer from "nodemailer";
import type { Config } from "../app/config.ts";
import { type Logger, silentLogger } from "../app/log.ts";
import { assertSafeMail } from "./headers.ts";
import type { Mailer } from "./types.ts";

export interface SmtpMailerOptions {
  from: string;
  smtp: Config["mail"]["smtp"];
  logger?: Logger;
  /** For relays with a self-signed certificate (and tests); off by default. */
  tls?: { rejectUnauthorized?: boolean };
}

export function createSmtpMailer(opts: SmtpMailerOptions): Mailer {
  const { smtp, logger = silentLogger } = opts;
  const transport = nodemailer.createTransport({
    pool: true,
    maxConnections: 5,
    host: smtp.host,
    port: smtp.port,
    secure: smtp.secure,
    auth: smtp.user
      ? { user: smtp.user, pass: smtp.password ?? "" }
      : undefined,
    // Credentials never cross the wire in clear: without implicit TLS, insist
    // on STARTTLS instead of trusting a server (or a MITM) that omits it.
    requireTLS: Boolean(smtp.user) && !smtp.secure,
    tls: opts.tls,
    // nodemailer's defaults (2 min to connect, 10 min idle) would stall a
    // delivery run on a dead relay far longer than its retry schedule.
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 15_000,
  });
  // An unhandled "error" event crashes the process. (The cast: nodemailer's
  // bundled types lose their EventEmitter base under Deno.)
  (transport as unknown as EventEmitter).on(
    "error",
    (err: Error) => logger.warn("smtp transport error", { err }),
  );
  let closed = false;

  return {
    async send(mail) {
      assertSafeMail(mail, opts.from);
      // A closed pool queues the mail forever; fail loudly instead.
      if (closed) throw new Error("smtp mailer is closed");
      const info = await transport.sendMail({
        from: opts.from,
        to: mail.to,
        subject: mail.subject,
        text: mail.text,
        html: mail.html,
      });
      logger.debug("mail sent", { messageId: info.messageId });
    },
    close() {
      if (!closed) transport.close();
      closed = true;
      return Promise.resolve();
    },
  };
}
