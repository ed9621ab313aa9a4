// lib/mail/ — sending mail: the backends (console, smtp, resend, memory),
// their shared headers and throttle, and the templates under emails/. It
// imports only i18n/ and app/'s foundation.
//
// Picks the mail backend named in the configuration; the rest of the app only
// sees the Mailer interface.
import type { Config } from "../app/config.ts";
import type { Logger } from "../app/log.ts";
import { createConsoleMailer } from "./console.ts";
import { createMemoryMailer } from "./memory.ts";
import { createResendMailer } from "./resend.ts";
import { createSmtpMailer } from "./smtp.ts";
import type { Mailer } from "./types.ts";

export { InvalidMailError, MailSendError } from "./types.ts";
export type { Mail, Mailer } from "./types.ts";
export type { MemoryMailer, SentMail } from "./memory.ts";
export {
  createConsoleMailer,
  createMemoryMailer,
  createResendMailer,
  createSmtpMailer,
};

type MailConfig = Config["mail"];

/** One line per backend; a new provider is one file and one line here. */
const backends: {
  [B in MailConfig["backend"]]: (
    mail: MailConfig,
    logger: Logger,
    userAgent: string,
  ) => Mailer;
} = {
  // Through the logger: its buffer never blocks, and LOG_FORMAT=json holds.
  console: (mail, logger) =>
    createConsoleMailer({
      from: mail.from,
      write: (text) =>
        logger.print("mail printed, not sent (MAIL_BACKEND=console)", text),
    }),
  memory: (mail) => createMemoryMailer({ from: mail.from }),
  smtp: (mail, logger) =>
    createSmtpMailer({ from: mail.from, smtp: mail.smtp, logger }),
  resend: (mail, logger, userAgent) =>
    createResendMailer({ from: mail.from, ...mail.resend, logger, userAgent }),
};

export function createMailer(
  mail: MailConfig,
  logger: Logger,
  userAgent = "cloud-user",
): Mailer {
  return backends[mail.backend](mail, logger, userAgent);
}
