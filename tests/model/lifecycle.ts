// A model-based test of the whole account lifecycle: fast-check plays random
// sequences of what browsers and mailboxes do against the real app (real KV,
// memory mailer, TestClock) and checks the invariants after every step.
//
// The cast: Ada owns the mailbox ada@example.com and uses a laptop and a
// phone. Mallory owns mallory@evil.test; he probes Ada's address from one
// browser (every probe is played again, from a twin browser, on a control
// address nobody else touches: the answers must match) and uses his own
// address from another. Each person types only passwords from their own
// pool, so "whose password is this" is a question the model can answer.
// Mallory also floods Ada's mailbox under other spellings (`Ada+1@…`,
// `ADA@…`) from a third browser, and tosses cookies into Ada's browsers:
// a page of his on a sibling domain plants his `session` or `registered`
// cookie, which her browser then sends before her own (issue 16).
// Both also hold a second mailbox (ada@example.net, mallory@evil.net) and
// move their accounts between addresses, their own and each other's, open
// the confirm links and the old address's undo links (issue 15).
//
// Invariants (see issue 11):
//   fresh_link   the newest activation mail of a pending account, while its
//                link is young enough, activates it (nobody is left holding
//                only dead links)
//   own_password nobody is signed in to an account, and no owner's account
//                is active, with a password that person never typed
//   epoch        no session outlives a credential change that committed
//                after it was created
//   store        every KV record parses, one address has at most one user
//   stranger     a stranger's answers for ada@ match the control's
//   mailbox      mails to one canonical mailbox (lower-cased, no +tag) keep
//                to the per-mailbox limits (README "Mail budgets"): per
//                action at most RATE_LIMIT_EMAIL in each of its windows, and
//                resends, resets and email changes at least RESEND_INTERVAL
//                apart (a deletion forgets them with everything else naming
//                the address: only the mailbox's holder can delete, the
//                confirming link goes there)
//   links        no link outlives what it was for: at most one confirm link
//                per account works, asked from the address it has now, and a
//                working reset link reaches the account's current address
//   revoked      a session ended from the sessions page or API stays dead,
//                and nobody ends a session of an account they are not
//                signed in to (issue 15)
//   erased       once an account is deleted and its goodbye sent, no KV
//                record names its address (as stored, or its canonical
//                mailbox)
//   erased_moves nor an address it moved from or asked to move to that no
//                other account has held or asked for
// A browser with a tossed cookie is held to own_password like any other:
// signed in to Mallory's account, or activating Ada's with his password,
// breaks it. Sessions and credential changes are followed per account (user
// id), so an account that moves to another address keeps its history.
//
// Replay a failure with MODEL_SEED and MODEL_PATH (printed on failure);
// MODEL_INVARIANTS=fresh_link,epoch checks only those.
import fc from "fast-check";
import { checkActivationLink } from "../../lib/accounts/accounts.ts";
import {
  checkEmailChangeLink,
  getEmailChange,
} from "../../lib/accounts/email_change.ts";
import { checkResetLink } from "../../lib/accounts/password_reset.ts";
import { checkDeletionLink } from "../../lib/accounts/deletion.ts";
import {
  maskEmail,
  REGISTERED_COOKIE,
  SESSION_COOKIE,
} from "../../lib/web/http.ts";
import { verifyPassword } from "../../lib/security/passwords.ts";
import { sha256Hex } from "../../lib/security/signing.ts";
import { getUserByEmail } from "../../lib/accounts/users.ts";
import { checkStore } from "../faults/store_check.ts";
import {
  type Sent,
  startTestApp,
  type TestApp,
  TestBrowser,
} from "../helpers.ts";
import { type CheapHasher, createCheapHasher } from "./cheap_hasher.ts";

const ADA = "ada@example.com";
const MALLORY = "mallory@evil.test";
const CONTROL = "control@example.com";
/** Second mailboxes, which the two move their accounts to. */
const ADA2 = "ada@example.net";
const MALLORY2 = "mallory@evil.net";
/** Where a ChangeEmail command may ask to move an account. */
const CHANGE_TARGETS = [ADA2, ADA, MALLORY2, MALLORY];
/** Other spellings of Ada's mailbox that Mallory floods. */
const VARIANTS = [
  "Ada+1@example.com",
  "ADA@example.com",
  "ada+news@example.com",
];
/** Addresses whose accounts the model watches (as the app stores them). */
const WATCHED = [
  ...new Set([
    ADA,
    MALLORY,
    ADA2,
    MALLORY2,
    ...VARIANTS.map((e) => e.toLowerCase()),
  ]),
];

type Person = "ada" | "mallory";
const POOLS: Record<Person, string[]> = {
  ada: ["violet tractor 4411", "amber glacier 9321", "copper meadow 7720"],
  mallory: ["raven lantern 6602"],
};
/** The mailboxes each person reads. */
const MAILBOXES: Record<Person, string[]> = {
  ada: [ADA, ADA2],
  mallory: [MALLORY, MALLORY2],
};

/** Browsers by index: who uses each, and which address they act on. */
const BROWSERS = [
  { name: "ada-laptop", person: "ada", email: ADA },
  { name: "ada-phone", person: "ada", email: ADA },
  { name: "mallory-probe", person: "mallory", email: ADA },
  { name: "control-twin", person: "mallory", email: CONTROL },
  { name: "mallory-own", person: "mallory", email: MALLORY },
  { name: "mallory-flood", person: "mallory", email: ADA },
] as const;
const PROBE = 2;
const TWIN = 3;
const FLOOD = 5;
type BrowserIx = 0 | 1 | 2 | 4;
/** Browsers whose person holds the mailbox they act on. */
const MAILBOX_HOLDERS = [0, 1, 4] as const;

export const INVARIANTS = [
  "fresh_link",
  "own_password",
  "epoch",
  "store",
  "stranger",
  "mailbox",
  "revoked",
  "erased",
  "links",
  "erased_moves",
] as const;
type Invariant = typeof INVARIANTS[number];
/** Checked unless MODEL_INVARIANTS says otherwise: all of them. */
const DEFAULT_INVARIANTS = INVARIANTS;

export interface Model {
  step: number;
  /** Per browser: the step whose credentials its session was made with. */
  born: (number | null)[];
  /** Per user id: the step of its last credential change. */
  changedAt: Map<string, number>;
  /** Per user id: the stored hash as last seen. */
  hashes: Map<string, string>;
  /** When each sent mail (by index in mailer.sent) went out. */
  mailTimes: number[];
  /** Which request sent each mail (null: none of the limited ones). */
  mailCauses: (MailCause | null)[];
  /** Session cookies ended from a sessions page or the API. */
  revoked: Set<string>;
  checked: Set<Invariant>;
  /** Addresses whose account the step just deleted. */
  erased: string[];
  /** Addresses that account had left or asked for, no other account's. */
  erasedMoves: string[];
  /** Per canonical mailbox: when its account was last deleted. */
  erasedAt: Map<string, number>;
  /** Per watched address: the id of the account holding it at the last check. */
  ids: Map<string, string>;
  /** Per user id: every address the account has held or asked to move to. */
  addresses: Map<string, Set<string>>;
}

export interface Real {
  app: TestApp;
  hasher: CheapHasher;
  browsers: TossableBrowser[];
}

type MailCause =
  | "register"
  | "resend"
  | "forgot"
  | "delete"
  | "email_change";

/**
 * A browser into which a sibling site may have planted cookies for our
 * domain with a longer path: the browser sends each before its own cookie
 * of that name, and no answer of ours replaces or clears it. A planted
 * cookie alone (the browser has none of its own) is not modelled: only the
 * `__Host-` names production uses stop that, which tossed_cookies_test.ts
 * proves; what every environment must do is count a name sent twice as
 * absent.
 */
class TossableBrowser extends TestBrowser {
  planted = new Map<string, string>();
  protected override cookieHeader(): string | null {
    const own = super.cookieHeader();
    const first = [...this.planted].filter(([k]) => this.cookies.has(k));
    if (!first.length) return own;
    return [...first.map(([k, v]) => `${k}=${v}`), own].join("; ");
  }
}

class Violation extends Error {
  constructor(invariant: Invariant, detail: string) {
    super(`invariant ${invariant}: ${detail}`);
  }
}

function pw(person: Person, ix: number): string {
  const pool = POOLS[person];
  return pool[ix % pool.length];
}

function linkIn(text: string, prefix: string): string | null {
  for (const raw of text.match(/https?:\/\/[^\s"<]+/g) ?? []) {
    const url = new URL(raw);
    if (url.pathname.startsWith(prefix)) return url.pathname;
  }
  return null;
}

/** Links of one kind mailed to `email`, oldest first, with their times. */
function mailedLinks(m: Model, r: Real, email: string, prefix: string) {
  const out: { path: string; at: number }[] = [];
  r.app.mailer.sent.forEach((mail, i) => {
    const path = mail.to === email ? linkIn(mail.text, prefix) : null;
    if (path) out.push({ path, at: m.mailTimes[i] });
  });
  return out;
}

/** Picks the newest link (pick 0) or an older one. */
function pickLink<T>(links: T[], pick: number): T | null {
  return links.length ? links[links.length - 1 - pick % links.length] : null;
}

/** What a stranger can see of an answer, with the address taken out. */
function shape(res: Sent, email: string) {
  const cookies = res.headers.getSetCookie().map((c) =>
    c.split("=")[0] + (/max-age=0/i.test(c) ? " (cleared)" : "")
  ).sort();
  const body = res.body.replaceAll(email, "<email>")
    .replaceAll(maskEmail(email), "<masked>")
    .replace(/nonce="[^"]*"/g, 'nonce=""');
  return JSON.stringify({
    status: res.status,
    location: res.location,
    cookies,
    body,
  });
}

// ---------------------------------------------------------------- commands

type Cmd = fc.AsyncCommand<Model, Real, false>;

abstract class Base implements Cmd {
  /** The limited request this command makes, if any. */
  sends: MailCause | null = null;
  check(_m: Readonly<Model>) {
    return true;
  }
  abstract act(m: Model, r: Real): Promise<void>;
  abstract toString(): string;
  async run(m: Model, r: Real) {
    m.step++;
    const before = r.browsers.map((b) => b.cookies.get(SESSION_COOKIE));
    await this.act(m, r);
    await r.app.idle();
    const sentAt = r.app.clock.now();
    while (m.mailTimes.length < r.app.mailer.sent.length) {
      m.mailTimes.push(sentAt);
      m.mailCauses.push(this.sends);
    }
    r.browsers.forEach((b, i) => {
      const now = b.cookies.get(SESSION_COOKIE);
      if (!now) m.born[i] = null;
      else if (now !== before[i] && m.born[i] !== m.step - 0.5) {
        m.born[i] = m.step;
      }
    });
    // Time passes between steps (past RESEND_INTERVAL, see the app config).
    r.app.clock.advance(1_000);
    await checkInvariants(m, r);
  }
}

/** A probe of ada@ by Mallory, played again on the control address. */
async function probe(
  m: Model,
  r: Real,
  what: string,
  send: (b: TestBrowser, email: string) => Promise<Sent>,
) {
  const real = await send(r.browsers[PROBE], ADA);
  const twin = await send(r.browsers[TWIN], CONTROL);
  if (!m.checked.has("stranger")) return;
  const a = shape(real, ADA);
  const b = shape(twin, CONTROL);
  if (a !== b) {
    // Where they part, not two whole pages.
    let at = 0;
    while (a[at] === b[at]) at++;
    const near = (s: string) => s.slice(Math.max(0, at - 60), at + 100);
    throw new Violation(
      "stranger",
      `${what} answers differ for ${ADA} and a control address:\n` +
        `  …${near(a)}…\n  …${near(b)}…`,
    );
  }
}

class Register extends Base {
  override sends = "register" as const;
  constructor(readonly b: BrowserIx, readonly p: number) {
    super();
  }
  toString() {
    return `register(${BROWSERS[this.b].name}, pw${this.p})`;
  }
  async act(m: Model, r: Real) {
    const { person } = BROWSERS[this.b];
    const send = (b: TestBrowser, email: string) =>
      b.register({
        email,
        password: pw(person, this.p),
        password_confirm: pw(person, this.p),
      });
    if (this.b === PROBE) await probe(m, r, "register", send);
    else await send(r.browsers[this.b], BROWSERS[this.b].email);
  }
}

class Login extends Base {
  constructor(readonly b: BrowserIx, readonly p: number) {
    super();
  }
  toString() {
    return `login(${BROWSERS[this.b].name}, pw${this.p})`;
  }
  async act(m: Model, r: Real) {
    const password = pw(BROWSERS[this.b].person, this.p);
    const send = (b: TestBrowser, email: string) =>
      b.post("/login", { email, password });
    if (this.b === PROBE) await probe(m, r, "login", send);
    else await send(r.browsers[this.b], BROWSERS[this.b].email);
  }
}

class MailRequest extends Base {
  constructor(readonly b: BrowserIx, readonly kind: "resend" | "forgot") {
    super();
    this.sends = kind;
  }
  toString() {
    return `${this.kind}(${BROWSERS[this.b].name})`;
  }
  async act(m: Model, r: Real) {
    const path = this.kind === "resend"
      ? "/activate/resend"
      : "/password/forgot";
    const send = (b: TestBrowser, email: string) => b.post(path, { email });
    if (this.b === PROBE) await probe(m, r, this.kind, send);
    else await send(r.browsers[this.b], BROWSERS[this.b].email);
  }
}

type Answer = { kind: "current" | "choose"; p: number };

/**
 * Opens an activation link from a mailbox and does what the page asks:
 * pressing its button (or letting it submit itself, with JavaScript),
 * typing the account's password, or choosing a new one.
 */
class OpenActivation extends Base {
  constructor(
    readonly b: 0 | 1 | 4,
    /** Whose mailbox: the browser's own, or Mallory's (a forwarded link). */
    readonly forwarded: boolean,
    readonly pick: number,
    readonly js: boolean,
    readonly answer: Answer,
  ) {
    super();
  }
  toString() {
    const from = this.forwarded ? "mallory's mail" : "own mail";
    return `openActivation(${BROWSERS[this.b].name}, ${from} #-${this.pick}, ${
      this.js ? "js" : "no js"
    }, ${this.answer.kind} pw${this.answer.p})`;
  }
  async act(m: Model, r: Real) {
    const email = this.forwarded ? MALLORY : BROWSERS[this.b].email;
    const link = pickLink(mailedLinks(m, r, email, "/activate/"), this.pick);
    if (!link) return;
    const browser = r.browsers[this.b];
    const page = await browser.get(link.path);
    if (page.status !== 200) return;
    const password = pw(BROWSERS[this.b].person, this.answer.p);
    const asksCurrent = page.body.includes('name="current_password"');
    const asksNew = page.body.includes('name="password"');
    if (this.answer.kind === "current" && asksCurrent) {
      await browser.post(link.path, { current_password: password });
    } else if (asksNew) {
      await browser.post(link.path, { password, password_confirm: password });
    } else if (asksCurrent) {
      await browser.post(link.path, { current_password: password });
    } else {
      // A one-button page: with JavaScript in the registering browser it
      // submits itself, otherwise the person presses; the same POST.
      await browser.post(link.path);
    }
  }
}

class OpenReset extends Base {
  constructor(
    readonly b: 0 | 1 | 4,
    readonly pick: number,
    readonly p: number,
  ) {
    super();
  }
  toString() {
    return `openReset(${BROWSERS[this.b].name}, #-${this.pick}, pw${this.p})`;
  }
  async act(m: Model, r: Real) {
    const { email, person } = BROWSERS[this.b];
    const link = pickLink(
      mailedLinks(m, r, email, "/password/reset/"),
      this.pick,
    );
    if (!link) return;
    const browser = r.browsers[this.b];
    const page = await browser.get(link.path);
    if (page.status !== 200) return;
    const password = pw(person, this.p);
    await browser.post(link.path, { password, password_confirm: password });
  }
}

class ChangePassword extends Base {
  constructor(readonly b: 0 | 1 | 4, readonly cur: number, readonly p: number) {
    super();
  }
  toString() {
    return `changePassword(${
      BROWSERS[this.b].name
    }, pw${this.cur} → pw${this.p})`;
  }
  async act(m: Model, r: Real) {
    const { person } = BROWSERS[this.b];
    const password = pw(person, this.p);
    const res = await r.browsers[this.b].post("/account/password", {
      current_password: pw(person, this.cur),
      password,
      password_confirm: password,
    });
    // The session that changed the password is made with the new one.
    if (res.location === "/account") m.born[this.b] = m.step;
  }
}

class Logout extends Base {
  constructor(readonly b: BrowserIx) {
    super();
  }
  toString() {
    return `logout(${BROWSERS[this.b].name})`;
  }
  async act(_m: Model, r: Real) {
    await r.browsers[this.b].post("/logout");
  }
}

/**
 * Mallory asks for mail to Ada's mailbox under another spelling, from a
 * browser of his own (no control twin: the answers may differ from a
 * stranger's, the mails may not exceed the mailbox's limits).
 */
class Flood extends Base {
  constructor(readonly kind: MailCause, readonly v: number) {
    super();
    this.sends = kind;
  }
  toString() {
    return `flood(${this.kind}, ${VARIANTS[this.v]})`;
  }
  async act(_m: Model, r: Real) {
    const email = VARIANTS[this.v];
    const browser = r.browsers[FLOOD];
    if (this.kind === "register") {
      const password = pw("mallory", 0);
      await browser.register({ email, password, password_confirm: password });
    } else {
      const path = this.kind === "resend"
        ? "/activate/resend"
        : "/password/forgot";
      await browser.post(path, { email });
    }
  }
}

/**
 * Mallory plants one of his cookies into one of Ada's browsers (replacing
 * what he planted there before). For the marker he first registers her
 * address from his flood browser, so that he holds the newest one; a
 * session he takes from whichever of his browsers is signed in.
 */
class Toss extends Base {
  constructor(
    readonly b: 0 | 1,
    readonly name: typeof SESSION_COOKIE | typeof REGISTERED_COOKIE,
  ) {
    super();
    if (name === REGISTERED_COOKIE) this.sends = "register";
  }
  toString() {
    return `toss(mallory's ${this.name} → ${BROWSERS[this.b].name})`;
  }
  async act(_m: Model, r: Real) {
    if (this.name === REGISTERED_COOKIE) {
      const password = pw("mallory", 0);
      await r.browsers[FLOOD].register({
        email: ADA,
        password,
        password_confirm: password,
      });
    }
    const value = [FLOOD, PROBE, 4]
      .map((i) => r.browsers[i].cookies.get(this.name))
      .find((v) => v !== undefined);
    if (value) r.browsers[this.b].planted.set(this.name, value);
  }
}

/** Whom a browser is signed in to (its own cookie as the app sees it). */
async function whoIs(browser: TestBrowser): Promise<string | null> {
  if (!browser.cookies.has(SESSION_COOKIE)) return null;
  const me = await browser.get("/api/me");
  return me.status === 200 ? JSON.parse(me.body).user.email : null;
}

/**
 * One browser ends another browser's session, by the page's form or the
 * API's DELETE (the id is the SHA-256 of the target's cookie, as the list
 * shows it). Ending a session of another account must be a 404 that ends
 * nothing: Mallory's browsers try Ada's sessions and the other way round.
 */
class RevokeSession extends Base {
  constructor(
    readonly b: BrowserIx,
    readonly target: BrowserIx,
    readonly viaApi: boolean,
  ) {
    super();
  }
  toString() {
    return `revokeSession(${BROWSERS[this.b].name} → ${
      BROWSERS[this.target].name
    }, ${this.viaApi ? "api" : "page"})`;
  }
  async act(m: Model, r: Real) {
    const actor = r.browsers[this.b];
    const target = r.browsers[this.target];
    const cookie = target.cookies.get(SESSION_COOKIE);
    if (!cookie) return;
    const [mine, theirs] = [await whoIs(actor), await whoIs(target)];
    const id = await sha256Hex(cookie);
    const res = this.viaApi
      ? await actor.request("DELETE", `/api/sessions/${id}`)
      : await actor.post("/account/sessions/end", { session: id });
    // A page post from a browser signed in to nothing is sent to /login.
    const ended = this.viaApi
      ? res.status === 204
      : res.status === 303 && mine !== null;
    if (ended) m.revoked.add(cookie);
    if (!m.checked.has("revoked") || mine === null) return;
    if (theirs !== null && mine !== theirs) {
      if (ended || res.status !== 404) {
        throw new Violation(
          "revoked",
          `${
            BROWSERS[this.b].name
          } (${mine}) ended a session of ${theirs}: ${res.status}`,
        );
      }
      if (await whoIs(target) !== theirs) {
        throw new Violation(
          "revoked",
          `${BROWSERS[this.target].name} lost its session to a refused revoke`,
        );
      }
    }
  }
}

/** "Sign out all other devices", by the page or the API. */
class RevokeOthers extends Base {
  constructor(readonly b: BrowserIx, readonly viaApi: boolean) {
    super();
  }
  toString() {
    return `revokeOthers(${BROWSERS[this.b].name}, ${
      this.viaApi ? "api" : "page"
    })`;
  }
  async act(m: Model, r: Real) {
    const actor = r.browsers[this.b];
    const mine = await whoIs(actor);
    if (mine === null) return;
    const others: string[] = [];
    for (const [i, browser] of r.browsers.entries()) {
      const cookie = browser.cookies.get(SESSION_COOKIE);
      if (i !== this.b && cookie && await whoIs(browser) === mine) {
        others.push(cookie);
      }
    }
    const res = this.viaApi
      ? await actor.api("/api/sessions/revoke-others")
      : await actor.post("/account/sessions/end-others");
    if (res.status !== (this.viaApi ? 200 : 303)) return;
    for (const cookie of others) m.revoked.add(cookie);
    if (m.checked.has("revoked") && await whoIs(actor) !== mine) {
      throw new Violation(
        "revoked",
        `${BROWSERS[this.b].name} was signed out by ending its other sessions`,
      );
    }
  }
}

/** Asks to delete the signed-in account, with a password of the person's. */
class AskDeletion extends Base {
  override sends = "delete" as const;
  constructor(readonly b: 0 | 1 | 4, readonly p: number) {
    super();
  }
  toString() {
    return `askDeletion(${BROWSERS[this.b].name}, pw${this.p})`;
  }
  async act(_m: Model, r: Real) {
    await r.browsers[this.b].post("/account/delete", {
      current_password: pw(BROWSERS[this.b].person, this.p),
    });
  }
}

/** A signed-in browser asks to move its account to one of CHANGE_TARGETS. */
class ChangeEmail extends Base {
  override sends = "email_change" as const;
  constructor(readonly b: 0 | 1 | 4, readonly to: number, readonly p: number) {
    super();
  }
  toString() {
    return `changeEmail(${BROWSERS[this.b].name} → ${
      CHANGE_TARGETS[this.to]
    }, pw${this.p})`;
  }
  async act(_m: Model, r: Real) {
    await r.browsers[this.b].post("/account/email", {
      email: CHANGE_TARGETS[this.to],
      current_password: pw(BROWSERS[this.b].person, this.p),
    });
  }
}

/**
 * Opens a deletion link from one of the person's mailboxes (the account may
 * have moved to the other) and confirms it.
 */
class OpenDeletion extends Base {
  constructor(
    readonly b: 0 | 1 | 4,
    readonly pick: number,
    readonly box = 0,
  ) {
    super();
  }
  toString() {
    const boxes = MAILBOXES[BROWSERS[this.b].person];
    return `openDeletion(${BROWSERS[this.b].name}, ${
      boxes[this.box % boxes.length]
    } #-${this.pick})`;
  }
  async act(m: Model, r: Real) {
    const boxes = MAILBOXES[BROWSERS[this.b].person];
    const email = boxes[this.box % boxes.length];
    const link = pickLink(
      mailedLinks(m, r, email, "/account/delete/"),
      this.pick,
    );
    if (!link) return;
    const browser = r.browsers[this.b];
    if ((await browser.get(link.path)).status !== 200) return;
    const res = await browser.post(link.path);
    if (res.location === "/account/deleted") {
      // The account deleted is the one this address held at the last check
      // (a deletion link only works for the address the account has now).
      const id = m.ids.get(email);
      m.erased.push(email);
      m.erasedAt.set(canonicalMailbox(email), r.app.clock.now());
      for (const other of id ? m.addresses.get(id) ?? [] : []) {
        const shared = [...m.addresses].some(([otherId, held]) =>
          otherId !== id && held.has(other)
        );
        if (other !== email && !shared) m.erasedMoves.push(other);
      }
    }
  }
}

/**
 * Opens an email-change link from one of the person's mailboxes: a confirm
 * link (pressing the button, typing the password if the page asks), or an
 * undo link (choosing a new password).
 */
class OpenEmailLink extends Base {
  constructor(
    readonly b: 0 | 1 | 4,
    readonly kind: "confirm" | "undo",
    readonly box: number,
    readonly pick: number,
    readonly p: number,
  ) {
    super();
  }
  toString() {
    const { person } = BROWSERS[this.b];
    const boxes = MAILBOXES[person];
    return `open${this.kind === "confirm" ? "EmailConfirm" : "EmailUndo"}(${
      BROWSERS[this.b].name
    }, ${boxes[this.box % boxes.length]} #-${this.pick}, pw${this.p})`;
  }
  async act(m: Model, r: Real) {
    const { person } = BROWSERS[this.b];
    const boxes = MAILBOXES[person];
    const prefix = `/account/email/${this.kind}/`;
    const email = boxes[this.box % boxes.length];
    const link = pickLink(mailedLinks(m, r, email, prefix), this.pick);
    if (!link) return;
    const browser = r.browsers[this.b];
    const page = await browser.get(link.path);
    if (page.status !== 200) return;
    const password = pw(person, this.p);
    if (this.kind === "undo") {
      await browser.post(link.path, { password, password_confirm: password });
    } else if (page.body.includes('name="current_password"')) {
      await browser.post(link.path, { current_password: password });
    } else {
      await browser.post(link.path);
    }
  }
}

/**
 * Mallory, signed in to his own account, asks to move it to Ada's address
 * and then to the control address: the answers must not tell them apart.
 */
class ProbeEmailChange extends Base {
  override sends = "email_change" as const;
  toString() {
    return "probeEmailChange(mallory-own → ada@, control@)";
  }
  async act(m: Model, r: Real) {
    const browser = r.browsers[4];
    const send = (email: string) =>
      browser.post("/account/email", {
        email,
        current_password: pw("mallory", 0),
      });
    const real = await send(ADA);
    const twin = await send(CONTROL);
    if (!m.checked.has("stranger")) return;
    if (shape(real, ADA) !== shape(twin, CONTROL)) {
      throw new Violation(
        "stranger",
        `moving an account to ${ADA} and to a control address answer differently`,
      );
    }
  }
}

const ADVANCES = {
  "2m": 121_000,
  "1h": 3_601_000,
  "3d": 3 * 86_400_000 + 60_000,
  "7d": 7 * 86_400_000 + 60_000,
} as const;

class Advance extends Base {
  constructor(readonly by: keyof typeof ADVANCES) {
    super();
  }
  toString() {
    return `advance(${this.by})`;
  }
  act(_m: Model, r: Real) {
    r.app.clock.advance(ADVANCES[this.by]);
    return Promise.resolve();
  }
}

/**
 * A sign-in with Ada's (old) password that has read the stored hash when a
 * reset from her other browser commits: the sign-in finishes after it.
 */
class LoginRacingReset extends Base {
  constructor(readonly b: 0 | 1, readonly old: number, readonly p: number) {
    super();
  }
  toString() {
    return `loginRacingReset(${
      BROWSERS[this.b].name
    }, pw${this.old}; reset → pw${this.p})`;
  }
  async act(m: Model, r: Real) {
    const link = pickLink(mailedLinks(m, r, ADA, "/password/reset/"), 0);
    if (!link) return;
    const other = r.browsers[1 - this.b];
    const held = r.hasher.holdNextVerify();
    const login = r.browsers[this.b].post("/login", {
      email: ADA,
      password: pw("ada", this.old),
    });
    const reached = await Promise.race([
      held.reached.then(() => true),
      login.then(() => false),
    ]);
    try {
      if (reached) {
        const password = pw("ada", this.p);
        await other.post(link.path, { password, password_confirm: password });
      }
    } finally {
      held.release();
    }
    const before = r.browsers[this.b].cookies.get(SESSION_COOKIE);
    await login;
    // Made with the credentials from before the reset.
    if (r.browsers[this.b].cookies.get(SESSION_COOKIE) !== before) {
      m.born[this.b] = m.step - 0.5;
    }
  }
}

// -------------------------------------------------------------- invariants

/**
 * Checks every invariant after a step. Long on purpose: the invariants share
 * one read of the watched users and the per-id history it updates, so each
 * step reads the store once and they all judge the same snapshot.
 */
async function checkInvariants(m: Model, r: Real) {
  const { app } = r;
  const now = app.clock.now();
  while (m.mailTimes.length < app.mailer.sent.length) {
    m.mailTimes.push(now);
    m.mailCauses.push(null);
  }
  const users = new Map(
    await Promise.all(
      [...WATCHED, CONTROL].map(async (email) =>
        [email, await getUserByEmail(app.kv, email, now)] as const
      ),
    ),
  );
  m.ids.clear();
  for (const [email, user] of users) {
    if (!user) continue;
    m.ids.set(email, user.id);
    if (m.hashes.get(user.id) !== user.passwordHash) {
      m.changedAt.set(user.id, m.step);
    }
    m.hashes.set(user.id, user.passwordHash);
    const held = m.addresses.get(user.id) ?? new Set();
    m.addresses.set(user.id, held.add(user.email));
    const change = await getEmailChange(app.kv, user.id);
    if (change) held.add(change.toEmail);
  }

  if (m.checked.has("store")) {
    const problems = await checkStore(app.kv, now);
    if (problems.length) throw new Violation("store", problems.join("; "));
  }

  if (m.checked.has("fresh_link")) {
    for (const email of WATCHED) {
      const user = users.get(email);
      if (!user || user.isActivated) continue;
      const newest = pickLink(mailedLinks(m, r, email, "/activate/"), 0);
      if (!newest) {
        throw new Violation("fresh_link", `${email} is pending with no mail`);
      }
      if (now - newest.at >= app.deps.config.activationMaxAgeMs) continue;
      const token = newest.path.slice("/activate/".length);
      const check = await checkActivationLink(app.deps, token);
      if (!check.ok) {
        throw new Violation(
          "fresh_link",
          `${email} is pending and its newest mail's link is ${check.reason}`,
        );
      }
    }
  }

  if (m.checked.has("mailbox")) checkMailbox(m, r);
  if (m.checked.has("erased")) await checkErased(r, m.erased, "erased");
  if (m.checked.has("erased_moves")) {
    await checkErased(r, m.erasedMoves, "erased_moves");
  }
  m.erased = [];
  m.erasedMoves = [];
  if (m.checked.has("links")) await checkLinks(m, r);

  const knows = async (person: Person, hash: string) => {
    for (const p of POOLS[person]) {
      if (await verifyPassword(p, hash)) return true;
    }
    return false;
  };
  if (m.checked.has("own_password")) {
    for (const email of MAILBOXES.ada) {
      const ada = users.get(email);
      if (ada?.isActivated && !await knows("ada", ada.passwordHash)) {
        throw new Violation(
          "own_password",
          `${email} is active with a password Ada never typed`,
        );
      }
    }
  }

  for (const [i, browser] of r.browsers.entries()) {
    if (!browser.cookies.has(SESSION_COOKIE)) continue;
    const me = await browser.get("/api/me");
    if (me.status !== 200) continue;
    const { email, id }: { email: string; id: string } =
      JSON.parse(me.body).user;
    const user = users.get(email);
    const person = BROWSERS[i].person;
    if (
      m.checked.has("revoked") &&
      m.revoked.has(browser.cookies.get(SESSION_COOKIE)!)
    ) {
      throw new Violation(
        "revoked",
        `${
          BROWSERS[i].name
        } is still signed in to ${email} with a session that was ended`,
      );
    }
    if (m.checked.has("own_password")) {
      if (!user || !await knows(person, user.passwordHash)) {
        throw new Violation(
          "own_password",
          `${
            BROWSERS[i].name
          } is signed in to ${email}, whose password ${person} never typed`,
        );
      }
    }
    if (m.checked.has("epoch")) {
      const born = m.born[i];
      const changed = m.changedAt.get(id) ?? -1;
      if (born === null || born < changed) {
        throw new Violation(
          "epoch",
          `${
            BROWSERS[i].name
          }'s session on ${email} (step ${born}) outlived the credential change of step ${changed}`,
        );
      }
    }
  }
}

/** No record names an address whose account this step deleted. */
async function checkErased(r: Real, erased: string[], invariant: Invariant) {
  if (!erased.length) return;
  const forms = [...new Set(erased.flatMap((e) => [e, canonicalMailbox(e)]))];
  for await (const e of r.app.kv.list({ prefix: [] })) {
    const text = JSON.stringify(
      [e.key, e.value],
      (_k, v) => typeof v === "bigint" ? String(v) : v,
    ).toLowerCase();
    const form = forms.find((f) => text.includes(f));
    if (form) {
      throw new Violation(
        invariant,
        `after deleting ${erased.join(", ")}, ${
          text.slice(0, 200)
        } names ${form}`,
      );
    }
  }
}

/** No confirm or reset link works for an address the account has left. */
async function checkLinks(m: Model, r: Real) {
  const live = new Map<string, string>();
  for (const email of WATCHED) {
    for (
      const { path } of mailedLinks(m, r, email, "/account/email/confirm/")
    ) {
      const token = path.split("/").at(-1)!;
      const link = await checkEmailChangeLink(r.app.deps, token);
      if (!link.ok) continue;
      const other = live.get(link.user.id);
      if (other && other !== token) {
        throw new Violation(
          "links",
          `two confirm links of one account work (the newer went to ${email})`,
        );
      }
      live.set(link.user.id, token);
      if (link.change.toEmail !== email) {
        throw new Violation("links", `a confirm link for ${email} went astray`);
      }
    }
    for (const { path } of mailedLinks(m, r, email, "/password/reset/")) {
      const link = await checkResetLink(r.app.deps, path.split("/").at(-1)!);
      if (link.ok && link.user.email !== email) {
        throw new Violation(
          "links",
          `a reset link mailed to ${email} works for the account now at ${link.user.email}`,
        );
      }
    }
    for (const { path } of mailedLinks(m, r, email, "/account/delete/")) {
      const token = path.split("/").at(-1)!;
      const link = await checkDeletionLink(r.app.deps, token);
      if (link.ok && link.user.email !== email) {
        throw new Violation(
          "links",
          `a deletion link mailed to ${email} works for the account now at ${link.user.email}`,
        );
      }
    }
  }
}

/**
 * The mailbox an address reaches, as README "Mail budgets" counts it
 * (lower-cased, no `+tag`): the model's own reading, not the app's.
 */
function canonicalMailbox(email: string): string {
  const [local, domain] = email.toLowerCase().split("@");
  return `${local.split("+")[0]}@${domain}`;
}

/** The per-mailbox limits, read off the mails that went out. */
function checkMailbox(m: Model, r: Real) {
  const { rateLimitEmail, resendIntervalMs } = r.app.deps.config;
  const windows = new Map<string, number>();
  const last = new Map<string, number>();
  r.app.mailer.sent.forEach((mail, i) => {
    const cause = m.mailCauses[i];
    if (!cause) return;
    const at = m.mailTimes[i];
    // Limits start afresh once the mailbox's account is deleted.
    if (at <= (m.erasedAt.get(canonicalMailbox(mail.to)) ?? -1)) return;
    const box = `${cause} ${canonicalMailbox(mail.to)}`;
    const window = `${box} ${Math.floor(at / rateLimitEmail.windowMs)}`;
    const count = (windows.get(window) ?? 0) + 1;
    windows.set(window, count);
    if (count > rateLimitEmail.limit) {
      throw new Violation(
        "mailbox",
        `${count} mails from ${cause} reached ${
          canonicalMailbox(mail.to)
        } in one window (limit ${rateLimitEmail.limit})`,
      );
    }
    const before = last.get(box);
    if (cause !== "register" && before !== undefined) {
      if (at - before < resendIntervalMs) {
        throw new Violation(
          "mailbox",
          `two mails from ${cause} reached ${canonicalMailbox(mail.to)} ${
            at - before
          } ms apart (interval ${resendIntervalMs} ms)`,
        );
      }
    }
    last.set(box, at);
  });
}

// ---------------------------------------------------------------- the run

// Mostly the newest mail, sometimes an older one.
const pick = fc.oneof(
  { weight: 3, arbitrary: fc.constant(0) },
  { weight: 1, arbitrary: fc.nat({ max: 3 }) },
);
const pwIx = fc.nat({ max: 2 });
const holder = fc.constantFrom(...MAILBOX_HOLDERS);
const anyBrowser = fc.constantFrom<BrowserIx>(0, 1, 2, 4);

const register = fc.tuple(anyBrowser, pwIx).map(([b, p]) => new Register(b, p));
const openActivation = fc.tuple(
  holder,
  fc.boolean(),
  pick,
  fc.boolean(),
  fc.record({
    kind: fc.constantFrom("current", "choose") as fc.Arbitrary<
      "current" | "choose"
    >,
    p: pwIx,
  }),
).map(([b, fwd, k, js, a]) => new OpenActivation(b, fwd && b !== 4, k, js, a));
const mailCause = fc.constantFrom<MailCause>("register", "resend", "forgot");
const flood = fc.tuple(mailCause, fc.nat({ max: VARIANTS.length - 1 })).map((
  [k, v],
) => new Flood(k, v));
const toss = fc.tuple(
  fc.constantFrom<0 | 1>(0, 1),
  fc.constantFrom<typeof SESSION_COOKIE | typeof REGISTERED_COOKIE>(
    SESSION_COOKIE,
    REGISTERED_COOKIE,
  ),
).map(([b, name]) => new Toss(b, name));
const signIn = fc.tuple(anyBrowser, pwIx).map(([b, p]) => new Login(b, p));
const changeEmail = fc.tuple(
  holder,
  fc.nat({ max: CHANGE_TARGETS.length - 1 }),
  pwIx,
).map(([b, to, p]) => new ChangeEmail(b, to, p));
const openEmailLink = fc.tuple(
  holder,
  fc.constantFrom("confirm", "undo") as fc.Arbitrary<"confirm" | "undo">,
  fc.nat({ max: 1 }),
  pick,
  pwIx,
).map(([b, kind, box, k, p]) => new OpenEmailLink(b, kind, box, k, p));
const revokeSession = fc.tuple(anyBrowser, anyBrowser, fc.boolean()).map((
  [b, target, api],
) => new RevokeSession(b, target, api));
const revokeOthers = fc.tuple(anyBrowser, fc.boolean()).map(([b, api]) =>
  new RevokeOthers(b, api)
);
const askDeletion = fc.tuple(holder, pwIx).map(([b, p]) =>
  new AskDeletion(b, p)
);
const openDeletion = fc.tuple(holder, pick, fc.nat({ max: 1 })).map((
  [b, k, box],
) => new OpenDeletion(b, k, box));
const mailRequest = fc.tuple(
  anyBrowser,
  fc.constantFrom("resend", "forgot") as fc.Arbitrary<"resend" | "forgot">,
).map(([b, k]) => new MailRequest(b, k));

// fc.commands picks uniformly among these; the steps most sequences need
// (registering, opening mail) are listed twice so deep sequences come often.
export const commands = [
  register,
  register,
  openActivation,
  openActivation,
  mailRequest,
  mailRequest,
  signIn,
  fc.tuple(holder, pick, pwIx).map(([b, k, p]) => new OpenReset(b, k, p)),
  fc.tuple(holder, pwIx, pwIx).map(([b, c, p]) => new ChangePassword(b, c, p)),
  anyBrowser.map((b) => new Logout(b)),
  fc.constantFrom("2m", "1h", "3d", "7d" as const).map((by) =>
    new Advance(by as keyof typeof ADVANCES)
  ),
  fc.tuple(fc.constantFrom<0 | 1>(0, 1), pwIx, pwIx).map(([b, o, p]) =>
    new LoginRacingReset(b, o, p)
  ),
  flood,
  // Tossing needs Ada to hold a cookie of her own first; listed twice so
  // that a tossed cookie meets her next step often.
  toss,
  toss,
  revokeSession,
  revokeOthers,
  askDeletion,
  openDeletion,
  changeEmail,
  openEmailLink,
  openEmailLink,
  fc.constant(null).map(() => new ProbeEmailChange()),
];

/**
 * Moving addresses from two active accounts: asking, confirming and undoing,
 * with registrations, resets, password changes and clock jumps between.
 */
export const EMAIL_CHANGES = {
  /** Ada (laptop) and Mallory (his own browser) start active, signed in. */
  prelude: () => [
    new Register(0, 0),
    new OpenActivation(0, false, 0, true, { kind: "current", p: 0 }),
    new Register(4, 0),
    new OpenActivation(4, false, 0, true, { kind: "current", p: 0 }),
  ],
  commands: [
    register,
    openActivation,
    openActivation,
    changeEmail,
    changeEmail,
    openEmailLink,
    openEmailLink,
    openEmailLink,
    fc.constant(null).map(() => new ProbeEmailChange()),
    signIn,
    mailRequest,
    askDeletion,
    openDeletion,
    revokeOthers,
    fc.tuple(holder, pick, pwIx).map(([b, k, p]) => new OpenReset(b, k, p)),
    fc.tuple(holder, pwIx, pwIx).map(([b, c, p]) =>
      new ChangePassword(b, c, p)
    ),
    fc.constantFrom("1h", "7d" as const).map((by) =>
      new Advance(by as keyof typeof ADVANCES)
    ),
  ],
};

/**
 * Mostly what tossing needs: Ada holding cookies of her own (registering,
 * opening her mail, signing in), Mallory holding his, and the toss.
 */
export const TOSSING = {
  commands: [
    register,
    register,
    openActivation,
    openActivation,
    signIn,
    toss,
    toss,
  ],
};

/**
 * Tight per-mailbox limits, so that a dozen steps can reach them: with
 * these, `mailbox` has something to check (the stranger invariant is left
 * out, since a limit Ada's own requests spent answers a stranger 429).
 */
export const TIGHT_LIMITS = {
  env: { RATE_LIMIT_EMAIL: "2/15m", RESEND_INTERVAL: "60s" },
  invariants: INVARIANTS.filter((i) => i !== "stranger"),
  commands: [...commands, flood, flood, flood, register],
};

/** Env and options for the app the model runs against. */
export const MODEL_ENV = {
  SIGNAL_QUEUE: "none",
  RESEND_INTERVAL: "1s",
  LOGIN_FREE_FAILURES: "100",
};

function checkedInvariants(all?: readonly Invariant[]): Set<Invariant> {
  const only = Deno.env.get("MODEL_INVARIANTS");
  if (!only) return new Set(all ?? DEFAULT_INVARIANTS);
  return new Set(
    only.split(",").map((s) => s.trim()).filter((s): s is Invariant =>
      (all ?? INVARIANTS as readonly string[]).includes(s)
    ),
  );
}

interface Variant {
  env?: Record<string, string>;
  invariants?: readonly Invariant[];
  /** Played (and checked) before every sequence. */
  prelude?: () => Cmd[];
}

function newModel(checked: Set<Invariant>): Model {
  return {
    step: 0,
    born: BROWSERS.map(() => null),
    changedAt: new Map(),
    hashes: new Map(),
    mailTimes: [],
    mailCauses: [],
    revoked: new Set(),
    checked,
    erased: [],
    erasedMoves: [],
    erasedAt: new Map(),
    ids: new Map(),
    addresses: new Map(),
  };
}

/** Plays one given sequence (for a regression test or a replay by hand). */
export async function runSequence(
  cmds: Cmd[],
  variant: Variant = {},
): Promise<void> {
  const hasher = await createCheapHasher();
  await using app = await startTestApp({
    env: { ...MODEL_ENV, ...variant.env },
    passwords: hasher,
  });
  const browsers = BROWSERS.map(() => new TossableBrowser(app.url));
  const model = newModel(checkedInvariants(variant.invariants));
  const real = { app, hasher, browsers };
  for (const cmd of [...variant.prelude?.() ?? [], ...cmds]) {
    await cmd.run(model, real);
  }
}

export {
  Advance,
  AskDeletion,
  ChangeEmail,
  ChangePassword,
  Flood,
  Login,
  LoginRacingReset,
  Logout,
  MailRequest,
  OpenActivation,
  OpenDeletion,
  OpenEmailLink,
  OpenReset,
  ProbeEmailChange,
  Register,
  RevokeOthers,
  RevokeSession,
  Toss,
};

export async function runLifecycleModel(
  opts: {
    numRuns: number;
    maxCommands: number;
    commands?: fc.Arbitrary<Cmd>[];
  } & Variant,
): Promise<void> {
  const seed = Deno.env.get("MODEL_SEED");
  const path = Deno.env.get("MODEL_PATH");
  const checked = checkedInvariants(opts.invariants);
  await fc.assert(
    fc.asyncProperty(
      fc.commands(opts.commands ?? commands, {
        maxCommands: opts.maxCommands,
      }),
      async (cmds) => {
        const hasher = await createCheapHasher();
        await using app = await startTestApp({
          env: { ...MODEL_ENV, ...opts.env },
          passwords: hasher,
        });
        const browsers = BROWSERS.map(() => new TossableBrowser(app.url));
        const model = newModel(checked);
        const real = { app, hasher, browsers };
        for (const cmd of opts.prelude?.() ?? []) await cmd.run(model, real);
        await fc.asyncModelRun(() => ({ model, real }), cmds);
      },
    ),
    {
      numRuns: opts.numRuns,
      ...(seed ? { seed: Number(seed) } : {}),
      ...(path ? { path } : {}),
      endOnFailure: false,
    },
  );
}
