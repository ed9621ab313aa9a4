// The one guard every backend runs before sending: a mail that could smuggle
// extra headers is a bug upstream, never something to deliver.
import { InvalidMailError, type Mail } from "./types.ts";

const LINE_BREAK = /[\r\n]/;

export function assertSafeMail(mail: Mail, from: string): void {
  if (mail.to.trim() === "") {
    throw new InvalidMailError("mail has no recipient");
  }
  const headers = { to: mail.to, subject: mail.subject, from };
  for (const [name, value] of Object.entries(headers)) {
    // A CR or LF would end this header and let the value inject its own,
    // e.g. a "Bcc:" line.
    if (LINE_BREAK.test(value)) {
      throw new InvalidMailError(`mail ${name} contains a line break`);
    }
  }
}
