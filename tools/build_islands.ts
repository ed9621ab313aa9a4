// Bundles islands/client.ts for the browser (preact, minified) into
// static/build/islands-<content hash>.js and records the name in
// static/build/manifest.json, which the pages read. The bundle is committed,
// so `deno task start` needs no build step; tests/islands/bundle_test.ts fails
// when it is stale. Run: deno task build
import { fileURLToPath } from "node:url";

const ROOT = new URL("../", import.meta.url);
const OUT_DIR = new URL("static/build/", ROOT);

export interface Bundle {
  /** e.g. islands-3f2a9c41d0.js */
  file: string;
  code: Uint8Array;
}

/** Runs `deno bundle` on the client entry and names the result by its hash. */
export async function bundleIslands(): Promise<Bundle> {
  const res = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--platform=browser",
      "--format=esm",
      "--minify",
      "--quiet",
      "islands/client.ts",
    ],
    cwd: fileURLToPath(ROOT),
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!res.success || res.stdout.length === 0) {
    throw new Error(
      `deno bundle failed:\n${new TextDecoder().decode(res.stderr)}`,
    );
  }
  const code = res.stdout;
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", code));
  const hash = [...digest.slice(0, 5)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
  return { file: `islands-${hash}.js`, code };
}

/** gzip -6 size: what a browser downloads. */
export async function gzippedSize(code: Uint8Array): Promise<number> {
  const stream = new Blob([code as BufferSource]).stream()
    .pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}

if (import.meta.main) {
  const bundle = await bundleIslands();
  for await (const entry of Deno.readDir(OUT_DIR)) {
    if (/^islands-.*\.js$/.test(entry.name) && entry.name !== bundle.file) {
      await Deno.remove(new URL(entry.name, OUT_DIR));
    }
  }
  await Deno.writeFile(new URL(bundle.file, OUT_DIR), bundle.code);
  await Deno.writeTextFile(
    new URL("manifest.json", OUT_DIR),
    JSON.stringify({ islands: bundle.file }, null, 2) + "\n",
  );
  const gz = await gzippedSize(bundle.code);
  console.log(
    `static/build/${bundle.file}: ${bundle.code.length} bytes, ${gz} gzipped`,
  );
}
