// The one interface every mail backend implements; the app never knows which
// backend it talks to.

export interface Mail {
  to: string;
  subject: string;
  text: string;
  html: string;
}

export interface Mailer {
  /** Sends one mail; rejects on any failure so the caller can retry. */
  send(mail: Mail): Promise<void>;
  /** Releases pooled connections; safe to call twice. */
  close(): Promise<void>;
}

/** Thrown for a mail that must never be sent as it is (header injection). */
export class InvalidMailError extends Error {
  override name = "InvalidMailError";
}
