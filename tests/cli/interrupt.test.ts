// Ctrl-C during `webkv run`: the browser is closed and its profile folder removed (each interrupted run used
// to leave ~3.5 MB in the temp folder), and the exit code is 130.

import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { modelsDir } from "../helpers/env.js";

const bin = resolve(import.meta.dirname, "../../bin/webkv.js");
const tempDir = await mkdtemp(join(tmpdir(), "webkv-interrupt-"));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

describe("Ctrl-C", () => {
  it("ends webkv run with 130 and leaves no Chromium profile behind", async () => {
    const child = spawn("node", [bin, "run", "--model", "stories260K", "--prompt-ids", "1", "--max-tokens", "100000", "--kv-blocks", "4096"], {
      env: { ...process.env, WEBKV_MODELS: modelsDir, TMPDIR: tempDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    await new Promise<void>((started) => child.stdout.once("data", () => started()));
    expect((await readdir(tempDir)).filter((name) => name.startsWith("webkv-chromium-"))).toHaveLength(1);
    child.kill("SIGINT");
    const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
    expect(code).toBe(130);
    expect(stderr).toMatch(/interrupted/);
    expect((await readdir(tempDir)).filter((name) => name.startsWith("webkv-chromium-"))).toEqual([]);
  });
});
