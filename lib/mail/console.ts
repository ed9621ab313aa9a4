// Development backend: prints each mail instead of sending it, like Django's
// console backend, so activation links can be copied from the terminal.
import { assertSafeMail } from "./headers.ts";
import type { Mail, Mailer } from "./types.ts";

const RULE = "-".repeat(72);

export interface ConsoleMailerOptions {
  from: string;
  /** Where the printed mail goes; defaults to stdout. Tests capture it here. */
  write?: (text: string) => void;
}

function formatMail(mail: Mail, from: string): string {
  return [
    `From: ${from}`,
    `To: ${mail.to}`,
    `Subject: ${mail.subject}`,
    RULE,
    mail.text,
    `${RULE} text/html`,
    mail.html,
    "=".repeat(72),
  ].join("\n");
}

export function createConsoleMailer(opts: ConsoleMailerOptions): Mailer {
  const write = opts.write ?? ((text: string) => console.log(text));
  return {
    // The executor turns a refused mail into a rejection, as every backend does.
    send: (mail) =>
      new Promise((resolve) => {
        assertSafeMail(mail, opts.from);
        // One write per mail so concurrent sends never interleave their lines.
        write(formatMail(mail, opts.from));
        resolve();
      }),
    close: () => Promise.resolve(),
  };
}
