// Starts the app as an operator would (a command, an environment) and walks
// the sign-up over real HTTP: register → mail on stdout → activation →
// /account, plus a static file and /healthz.
import assert from "node:assert/strict";

/** Collects a child's stdout and waits for text in it. */
function collect(stream: ReadableStream<Uint8Array>) {
  let text = "";
  let wake = () => {};
  (async () => {
    const decoder = new TextDecoder();
    for await (const chunk of stream) {
      text += decoder.decode(chunk, { stream: true });
      wake();
    }
  })();
  return {
    get text() {
      return text;
    },
    async waitFor(pattern: RegExp, ms = 15_000): Promise<RegExpMatchArray> {
      const deadline = Date.now() + ms;
      while (true) {
        const match = text.match(pattern);
        if (match) return match;
        if (Date.now() > deadline) {
          throw new Error(`no ${pattern} in output:\n${text}`);
        }
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 100);
        });
      }
    },
  };
}

export async function walkSignUp(
  command: string,
  opts: { args?: string[]; cwd: string; env: Record<string, string> },
): Promise<void> {
  const child = new Deno.Command(command, {
    args: opts.args,
    cwd: opts.cwd,
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/tmp",
      PORT: "0",
      HOSTNAME: "127.0.0.1",
      MAIL_BACKEND: "console",
      PASSWORD_WORKERS: "1",
      APP_VERSION: "walk-test",
      NO_COLOR: "1",
      ...opts.env,
    },
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  try {
    const [, base] = await out.waitFor(/listening on (http:\/\/\S+)/);
    const origin = { origin: base };

    let res = await fetch(`${base}/register`);
    assert.equal(res.status, 200);
    assert.match(await res.text(), /<form method="post" action="\/register"/);
    res = await fetch(`${base}/static/styles.css`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type")!, /^text\/css/);
    assert.ok((await res.text()).length > 100);

    res = await fetch(`${base}/register`, {
      method: "POST",
      headers: origin,
      body: new URLSearchParams({
        first_name: "Ada",
        email: "ada@example.com",
        password: "correct horse battery",
        password_confirm: "correct horse battery",
      }),
      redirect: "manual",
    });
    const page = await res.text();
    assert.equal(res.status, 303, page);
    // The registering browser's marker: without it activation asks for the
    // password instead of signing in.
    const marker = res.headers.getSetCookie().map((c) => c.split(";")[0])
      .join("; ");

    // The console backend prints the mail rendered from emails/ inside the binary.
    const [, path] = await out.waitFor(
      /https?:\/\/\S+?(\/activate\/[\w.-]+)/,
    );
    assert.match(out.text, /^Subject: .+/m);
    res = await fetch(`${base}${path}`, {
      method: "POST",
      headers: { ...origin, cookie: marker },
      redirect: "manual",
    });
    assert.equal(res.status, 303);
    assert.equal(res.headers.get("location"), "/account");
    const cookie = res.headers.getSetCookie().map((c) => c.split(";")[0])
      .join("; ");
    await res.body?.cancel();
    res = await fetch(`${base}/account`, { headers: { cookie } });
    assert.equal(res.status, 200);
    assert.match(await res.text(), /Ada/);

    res = await fetch(`${base}/healthz`);
    assert.equal(res.status, 200);
    const health = await res.json();
    assert.equal(health.version, "walk-test");
    assert.equal(health.kv.ok, true);
  } finally {
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0, err.text);
  }
}
