// A few hundred random account lifecycles against the real app, checked
// after every step (see lifecycle.ts); `deno task soak` runs thousands.
import {
  Login,
  LoginRacingReset,
  MailRequest,
  OpenActivation,
  Register,
  runLifecycleModel,
  runSequence,
} from "./lifecycle.ts";

Deno.test("lifecycle: every sequence of sign-ups, links, sign-ins and resets keeps the invariants", async () => {
  await runLifecycleModel({ numRuns: 200, maxCommands: 12 });
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
  "register, then sign in, tells a stranger the address was free (stranger)": [
    new Register(2, 0),
    new Register(0, 0),
    new Login(2, 0),
  ],
};

for (const [name, cmds] of Object.entries(KNOWN)) {
  Deno.test(`lifecycle: ${name}`, () => runSequence(cmds));
}
