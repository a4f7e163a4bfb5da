#!/usr/bin/env node
// webkv's command line (built to dist/cli by `npm run build`, which `npm install` runs).
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const built = join(dirname(fileURLToPath(import.meta.url)), "..", "dist", "cli", "webkv.js");
if (!existsSync(built)) {
  process.stderr.write("webkv is not built yet: run `npm run build` in the webkv folder\n");
  process.exit(1);
}
await import(built);
