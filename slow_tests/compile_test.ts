// `deno task compile` builds one executable; copied alone into an empty
// folder it serves the pages and static files, renders the mail templates
// and hashes passwords in its worker, from register to /account.
// Slow (a full compile), so it runs as `deno task test:compile`.
import assert from "node:assert/strict";
import { walkSignUp } from "./walk.ts";

const ROOT = new URL("..", import.meta.url);
const BINARY = new URL("dist/cloud-user", ROOT);

const build = await new Deno.Command(Deno.execPath(), {
  args: ["task", "--quiet", "compile"],
  cwd: ROOT,
  env: { NO_COLOR: "1" },
  stdout: "piped",
  stderr: "piped",
}).output();
const buildLog = new TextDecoder().decode(build.stderr);
// deno compile fetches its runtime (denort) once from dl.deno.land; where
// only package registries are reachable it cannot, and DENORT_BIN is unset.
const noRuntime = !build.success &&
  /denort|dl\.deno\.land/.test(buildLog) && !Deno.env.get("DENORT_BIN");
if (noRuntime) {
  console.error(
    "compile test ignored: deno compile could not fetch its runtime (denort); " +
      "set DENORT_BIN to a denort binary or allow dl.deno.land",
  );
}

Deno.test({
  name: "compile: the lone binary walks register → mail → activation → account",
  ignore: noRuntime,
  async fn() {
    assert.ok(build.success, `deno task compile failed:\n${buildLog}`);
    const dir = await Deno.makeTempDir();
    try {
      // Nothing beside it: no static/, emails/, lib/ or deno.json.
      await Deno.copyFile(BINARY, `${dir}/cloud-user`);
      await Deno.chmod(`${dir}/cloud-user`, 0o755);
      assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), [
        "cloud-user",
      ]);
      await walkSignUp(`${dir}/cloud-user`, {
        cwd: dir,
        env: { KV_PATH: `${dir}/data/cloud-user.sqlite3` },
      });
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("start: `deno task start` needs no flag beyond deno.json's", async () => {
  // start may write only under ./data, as on a server.
  const kvPath = `data/walk-test-${crypto.randomUUID()}.sqlite3`;
  try {
    await walkSignUp(Deno.execPath(), {
      args: ["task", "--quiet", "start"],
      cwd: ROOT.pathname,
      env: { KV_PATH: kvPath },
    });
  } finally {
    for (const suffix of ["", "-shm", "-wal"]) {
      await Deno.remove(new URL(kvPath + suffix, ROOT)).catch(() => {});
    }
  }
});
