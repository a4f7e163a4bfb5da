// The library as a user gets it: `npm pack` of this package (built by the global setup, types emitted here),
// unpacked into a site's node_modules/webkv, imported by a page through an import map — no bundler, no
// source files, only what the tarball holds.

import { execFile } from "node:child_process";
import { mkdir, mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";

const exec = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "..", "..");

/** A folder with node_modules/webkv unpacked from the tarball and an index.html importing it. */
export async function siteWithPackedLibrary(): Promise<string> {
  await exec("npx", ["tsc", "-p", "tsconfig.lib.json"], { cwd: repoRoot });
  const site = await mkdtemp(join(tmpdir(), "webkv-site-"));
  const { stdout } = await exec("npm", ["pack", "--ignore-scripts", "--json", "--pack-destination", site], { cwd: repoRoot });
  const tarball = join(site, (JSON.parse(stdout) as { filename: string }[])[0]!.filename);
  const packageDir = join(site, "node_modules", "webkv");
  await mkdir(packageDir, { recursive: true });
  await exec("tar", ["-xzf", tarball, "-C", packageDir, "--strip-components=1"]);
  await writeFile(
    join(site, "index.html"),
    `<!doctype html><meta charset="utf-8"><title>webkv user page</title>
<script type="importmap">{ "imports": { "webkv": "./node_modules/webkv/dist/lib/index.js" } }</script>
<script type="module">window.webkv = await import("webkv"); document.title = "ready";</script>
<p>a page using the packed webkv library</p>`,
  );
  return site;
}
