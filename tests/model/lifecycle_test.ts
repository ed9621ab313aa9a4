// A few hundred random account lifecycles against the real app, checked
// after every step (see lifecycle.ts); `deno task soak` runs thousands.
import {
  AskDeletion,
  ChangeEmail,
  EMAIL_CHANGES,
  Flood,
  Login,
  LoginRacingReset,
  MailRequest,
  OpenActivation,
  OpenDeletion,
  OpenEmailLink,
  OpenReset,
  Register,
  RevokeOthers,
  RevokeSession,
  runLifecycleModel,
  runSequence,
  TIGHT_LIMITS,
  Toss,
  TOSSING,
} from "./lifecycle.ts";

Deno.test("lifecycle: every sequence of sign-ups, links, sign-ins and resets keeps the invariants", async () => {
  await runLifecycleModel({ numRuns: 200, maxCommands: 12 });
});

Deno.test("lifecycle: cookies Mallory tosses into Ada's browsers win him nothing", async () => {
  await runLifecycleModel({ numRuns: 100, maxCommands: 12, ...TOSSING });
});

Deno.test("lifecycle: with tight per-mailbox limits, floods under other spellings keep to them", async () => {
  await runLifecycleModel({ numRuns: 150, maxCommands: 12, ...TIGHT_LIMITS });
});

Deno.test("lifecycle: moving accounts between addresses, confirming and undoing keeps the invariants", async () => {
  await runLifecycleModel({
    numRuns: 40,
    maxCommands: 12,
    ...EMAIL_CHANGES,
  });
});

// The shortest sequences the model found on the code before issue 11's
// fixes, one per hole, played every time.
const KNOWN = {
  "registering twice leaves only a dead link (fresh_link)": [
    new Register(0, 0),
    new Register(0, 0),
  ],
  "a forwarded link signs the victim in to Mallory's account (own_password)": [
    new Register(4, 0),
    new OpenActivation(0, true, 0, false, { kind: "current", p: 0 }),
  ],
  "a stranger's registration goes live when Ada presses (own_password)": [
    new Register(2, 0),
    new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
    new Login(2, 0),
  ],
  "a sign-in racing a reset keeps its session (epoch)": [
    new Register(0, 1),
    new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
    new MailRequest(0, "forgot"),
    new LoginRacingReset(0, 1, 0),
  ],
  "Ada's press on Mallory's confirm link moves his account to her address (own_password)":
    [
      new Register(4, 0),
      new OpenActivation(4, false, 0, false, { kind: "current", p: 0 }),
      new ChangeEmail(4, 1, 0),
      new OpenEmailLink(0, "confirm", 0, 0, 0),
    ],
  "a reset link mailed to the old address works after the move (links)": [
    new Register(0, 0),
    new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
    new MailRequest(0, "forgot"),
    new ChangeEmail(0, 0, 0),
    new OpenEmailLink(0, "confirm", 1, 0, 0),
    new OpenReset(0, 0, 1),
  ],
  "register, then sign in, tells a stranger the address was free (stranger)": [
    new Register(2, 0),
    new Register(0, 0),
    new Login(2, 0),
  ],
};

// Issue 15: ending sessions from the list, on sequences that reach it.
const SESSIONS = {
  "Ada ends her phone's session and it stays dead; Mallory cannot end hers (revoked)":
    [
      new Register(0, 0),
      new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
      new Login(1, 0),
      new Register(4, 0),
      new OpenActivation(4, false, 0, false, { kind: "current", p: 0 }),
      new RevokeSession(4, 0, true),
      new RevokeSession(4, 1, false),
      new RevokeSession(0, 4, false),
      new RevokeSession(0, 1, true),
      new Login(1, 0),
      new RevokeOthers(1, false),
      new RevokeOthers(4, true),
    ],
};

for (const [name, cmds] of Object.entries({ ...KNOWN, ...SESSIONS })) {
  Deno.test(`lifecycle: ${name}`, () => runSequence(cmds));
}

// Issue 16's holes, as sequences: each fails when its fix is taken out.
const ISSUE_16 = {
  "Mallory's tossed marker makes Ada's link activate his password (own_password)":
    [
      new Register(0, 0),
      new Toss(0, "registered"),
      new OpenActivation(0, false, 0, true, { kind: "current", p: 0 }),
    ],
  "Mallory's tossed session signs Ada in to his account (own_password)": [
    new Register(4, 0),
    new OpenActivation(4, false, 0, false, { kind: "current", p: 0 }),
    new Register(0, 0),
    new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
    new Toss(0, "session"),
  ],
};
const ISSUE_16_TIGHT = {
  "+tags share one mailbox's registration budget (mailbox)": [
    new Register(0, 0),
    new Flood("register", 0),
    new Flood("register", 2),
  ],
  "+tags share one mailbox's resend interval (mailbox)": [
    new Flood("register", 0),
    new Flood("register", 2),
    new Flood("resend", 0),
    new Flood("resend", 2),
  ],
  "forgot-password has an interval, whatever the spelling (mailbox)": [
    new Register(0, 0),
    new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
    new MailRequest(0, "forgot"),
    new Flood("forgot", 1),
  ],
};

for (const [name, cmds] of Object.entries(ISSUE_16)) {
  Deno.test(`lifecycle: ${name}`, () => runSequence(cmds));
}
for (const [name, cmds] of Object.entries(ISSUE_16_TIGHT)) {
  Deno.test(`lifecycle: ${name}`, () => runSequence(cmds, TIGHT_LIMITS));
}

// Issue 15: deleting an account after an email change, asked or done. These
// sequences found deletion keeping rate-limit and cooldown records under the
// address the account left or asked for; deletion now erases those too
// (personOf in lib/accounts/personal_data.ts).
const MOVED_THEN_DELETED = {
  "a moved account, deleted, leaves no record naming its old or new address (erased_moves)":
    [
      new Register(0, 0),
      new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
      new ChangeEmail(0, 0, 0),
      new OpenEmailLink(0, "confirm", 1, 0, 0),
      new AskDeletion(0, 0),
      new OpenDeletion(0, 0, 0),
      new OpenDeletion(0, 0, 1),
    ],
  "an account deleted with a change pending leaves no record naming the address it asked for (erased_moves)":
    [
      new Register(4, 0),
      new OpenActivation(4, false, 0, false, { kind: "current", p: 0 }),
      new ChangeEmail(4, 2, 0),
      new AskDeletion(4, 0),
      new OpenDeletion(4, 0, 0),
    ],
};
for (const [name, cmds] of Object.entries(MOVED_THEN_DELETED)) {
  Deno.test(`lifecycle: ${name}`, () => runSequence(cmds));
}

// Issue 15: deleting an account, in the middle of anything.
const DELETION = {
  "a deleted account leaves no record naming its address (erased)": [
    new Register(0, 0),
    new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
    new Login(1, 0),
    new MailRequest(2, "forgot"),
    new AskDeletion(0, 0),
    new OpenDeletion(1, 0),
  ],
  "the address registers again at once, and can be deleted again (erased)": [
    new Register(0, 0),
    new OpenActivation(0, false, 0, false, { kind: "current", p: 0 }),
    new AskDeletion(0, 0),
    new OpenDeletion(0, 0),
    new Register(0, 1),
    new OpenActivation(0, false, 0, false, { kind: "current", p: 1 }),
    new AskDeletion(0, 1),
    new OpenDeletion(0, 0),
  ],
};

for (const [name, cmds] of Object.entries(DELETION)) {
  Deno.test(`lifecycle: ${name}`, () => runSequence(cmds));
}
