// Ctrl-C during `webkv run`: the generation ends after its current step and what was produced is printed
// (with --json, the JSON result with stop_reason "aborted"); the browser is closed and its profile folder
// removed (each interrupted run used to leave ~3.5 MB in the temp folder); the exit code is 130.

import { spawn } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { syntheticLlama } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import { modelsDir } from "../helpers/env.js";

const bin = resolve(import.meta.dirname, "../../bin/webkv.js");
const tempDir = await mkdtemp(join(tmpdir(), "webkv-interrupt-"));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

describe("Ctrl-C", () => {
  it.each([false, true])("ends webkv run (--json %s) with 130, keeps the output, leaves no Chromium profile behind", async (json) => {
    // a model with a context long enough that the generation is still running when Ctrl-C comes
    const model = join(tempDir, "long-context.gguf");
    const synthetic = syntheticLlama({ dim: 128, layers: 2, heads: 4, kvHeads: 2, ffn: 256, vocab: 300, contextLength: 65536 }, { seed: 1, weightType: GgmlType.F32 });
    await writeGgufFile(model, synthetic.metadata, synthetic.tensors);
    const args = ["run", "--model", model, "--prompt-ids", "1", "--max-tokens", "60000", "--kv-blocks", "4096"];
    const child = spawn("node", [bin, ...args, ...(json ? ["--json"] : [])], {
      env: { ...process.env, WEBKV_MODELS: modelsDir, TMPDIR: tempDir },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    let stdout = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    child.stdout.on("data", (chunk) => (stdout += chunk));
    // generating: streamed text on stdout, or (--json) the browser is up and a few seconds have passed
    if (json) {
      await expect.poll(async () => (await readdir(tempDir)).some((name) => name.startsWith("webkv-chromium-")), { timeout: 60_000 }).toBe(true);
      await new Promise((wait) => setTimeout(wait, 20_000));
    } else {
      await new Promise<void>((started) => child.stdout.once("data", () => started()));
    }
    expect((await readdir(tempDir)).filter((name) => name.startsWith("webkv-chromium-"))).toHaveLength(1);
    child.kill("SIGINT");
    const code = await new Promise<number | null>((done) => child.on("close", (c) => done(c)));
    expect(code).toBe(130);
    if (json) {
      // one JSON object: the result with what was produced, or — when a slow machine was still loading the
      // model at the Ctrl-C — the "aborted" error object
      const result = JSON.parse(stdout);
      if (result.error) {
        expect(result.error.code).toBe("aborted");
      } else {
        expect(result.stop_reason).toBe("aborted");
        expect(result.output_ids.length).toBeGreaterThan(0);
      }
    } else {
      expect(stdout.length).toBeGreaterThan(0);
      expect(stderr).toMatch(/\d+ generated \(aborted\)/);
    }
    expect((await readdir(tempDir)).filter((name) => name.startsWith("webkv-chromium-"))).toEqual([]);
  });
});
