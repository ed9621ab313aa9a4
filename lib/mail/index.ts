// Picks the mail backend named in the configuration; the rest of the app only
// sees the Mailer interface.
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";
import { createConsoleMailer } from "./console.ts";
import { createMemoryMailer } from "./memory.ts";
import { createSmtpMailer } from "./smtp.ts";
import type { Mailer } from "./types.ts";

export { InvalidMailError } from "./types.ts";
export type { Mail, Mailer } from "./types.ts";
export type { MemoryMailer, SentMail } from "./memory.ts";
export { createConsoleMailer, createMemoryMailer, createSmtpMailer };

export function createMailer(mail: Config["mail"], logger: Logger): Mailer {
  switch (mail.backend) {
    case "smtp":
      return createSmtpMailer({ from: mail.from, smtp: mail.smtp, logger });
    case "memory":
      return createMemoryMailer({ from: mail.from });
    case "console":
      return createConsoleMailer({ from: mail.from });
  }
}
