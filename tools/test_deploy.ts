// deno task test:deploy: the Deploy journey (tests/deploy/) against the Deno
// version Deno Deploy runs, installed from npm beside the local one. When
// Deploy moves to a newer Deno, change DEPLOY_DENO_VERSION (docs/deploy.md
// names the page that says which one it runs).
export const DEPLOY_DENO_VERSION = "2.5.0";

const cacheHome = Deno.env.get("XDG_CACHE_HOME") ??
  `${Deno.env.get("HOME") ?? "/tmp"}/.cache`;
const prefix = `${cacheHome}/cloud-user/deno-${DEPLOY_DENO_VERSION}`;
/** npm's launcher: a Node script that runs the binary (and keeps signals). */
const launcher = `${prefix}/node_modules/.bin/deno`;

/** The real binary's path and version, from the launcher; null if absent. */
async function installed(): Promise<{ path: string; version: string } | null> {
  try {
    const out = await new Deno.Command(launcher, {
      args: ["eval", "console.log(Deno.execPath(), Deno.version.deno)"],
    }).output();
    const [path, version] = new TextDecoder().decode(out.stdout).trim()
      .split(" ");
    return out.success && path && version ? { path, version } : null;
  } catch {
    return null;
  }
}

let deno = await installed();
if (deno?.version !== DEPLOY_DENO_VERSION) {
  console.error(
    `installing deno ${DEPLOY_DENO_VERSION} from npm into ${prefix}`,
  );
  await Deno.mkdir(prefix, { recursive: true });
  const npm = await new Deno.Command("npm", {
    args: [
      "install",
      "--prefix",
      prefix,
      "--no-save",
      "--no-audit",
      "--no-fund",
      `deno@${DEPLOY_DENO_VERSION}`,
    ],
    stdout: "inherit",
    stderr: "inherit",
  }).output();
  deno = await installed();
  if (!npm.success || deno?.version !== DEPLOY_DENO_VERSION) {
    console.error(
      `test:deploy: could not install deno ${DEPLOY_DENO_VERSION} (got ${deno?.version})`,
    );
    Deno.exit(1);
  }
}

// The test runner is this Deno; the app under test runs on Deploy's, called
// directly: through npm's launcher, SIGTERM would stop Node, not the app.
const test = await new Deno.Command(Deno.execPath(), {
  args: ["test", "-A", "tests/deploy/", ...Deno.args],
  cwd: new URL("..", import.meta.url),
  env: { DEPLOY_DENO: deno!.path, DEPLOY_DENO_VERSION },
  stdout: "inherit",
  stderr: "inherit",
}).output();
Deno.exit(test.code);
