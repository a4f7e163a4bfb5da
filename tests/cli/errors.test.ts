// The CLI's one error style, as a user meets it: `webkv <command>: <message>` on one line, exit 2 for usage
// errors and 1 at run time, no stack trace unless --debug, and with --json a JSON error object on stdout.
// Each case here printed a stack trace, exited with the wrong code, or was silently ignored before.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { modelPath, modelsDir } from "../helpers/env.js";

const exec = promisify(execFile);
const bin = resolve(import.meta.dirname, "../../bin/webkv.js");
const tempDir = await mkdtemp(join(tmpdir(), "webkv-cli-errors-"));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

async function webkv(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec("node", [bin, ...args], { env: { ...process.env, WEBKV_MODELS: modelsDir }, timeout: 120_000 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const stories = () => modelPath("stories260K.gguf");

describe("usage errors: exit 2, one line, no stack", () => {
  const cases: [string, () => string[], RegExp][] = [
    ["--top-p 2", () => ["run", "--model", stories(), "--top-p", "2"], /^webkv run: top-p must be in \(0, 1\], got 2$/],
    ["--top-p 0", () => ["run", "--model", stories(), "--top-p", "0"], /^webkv run: top-p must be in \(0, 1\], got 0$/],
    ["--temperature=-1", () => ["run", "--model", stories(), "--temperature=-1"], /^webkv run: temperature must be a number ≥ 0, got -1$/],
    ["a stray prompt word", () => ["run", "--model", stories(), "Once", "upon", "a", "time"], /^webkv run: unexpected argument "Once" \(and 3 more\).*--prompt "Once upon a time"/],
    ["--chromium that does not exist", () => ["run", "--model", stories(), "--chromium", "/nonexistent/chromium"], /^webkv run: --chromium \/nonexistent\/chromium: no such file/],
    ["a missing --file", () => ["tokenize", "--model", stories(), "--file", join(tempDir, "missing.txt")], /^webkv tokenize: cannot read .*missing\.txt: no such file or directory$/],
    ["an unknown option", () => ["score", "--model", stories(), "--idz", "1,2"], /^webkv score: Unknown option '--idz'/],
    ["an unknown command", () => ["runn"], /^webkv: unknown command "runn"/],
  ];
  it.each(cases)("%s", async (_label, args, message) => {
    const { code, stderr } = await webkv(args());
    expect(code).toBe(2);
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
    expect(stderr.trimEnd()).toMatch(message);
  });
});

describe("runtime errors: exit 1, one line; --json and --debug", () => {
  it("a directory as --model", async () => {
    const { code, stderr } = await webkv(["run", "--model", tempDir]);
    expect(code).toBe(1);
    expect(stderr.trimEnd()).toBe(`webkv run: --model ${tempDir} is a directory, not a .gguf file`);
  });

  it("--json prints a JSON error object on stdout", async () => {
    const { code, stdout, stderr } = await webkv(["run", "--model", tempDir, "--json"]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({ error: { code: "model_not_found", message: `--model ${tempDir} is a directory, not a .gguf file` } });
    expect(stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("--debug adds the stack", async () => {
    const { stderr } = await webkv(["run", "--model", tempDir, "--debug"]);
    expect(stderr).toMatch(/^webkv run: --model .* is a directory/);
    expect(stderr).toMatch(/\n\s+at /);
  });
});

describe("an error of the library's core", () => {
  it("no WebGPU adapter: webkv run --json gives the library's no_webgpu code, as createEngine does (the CLI loads through EngineCore)", async () => {
    // Chromium without its GPU process's rasterizers: navigator.gpu is there, but no adapter comes back.
    const chromium = join(tempDir, "chromium-without-webgpu.sh");
    await writeFile(chromium, `#!/bin/sh\nexec "${process.env.WEBKV_CHROMIUM ?? "/usr/bin/chromium"}" "$@" --disable-gpu --disable-software-rasterizer\n`, { mode: 0o755 });
    const { code, stdout } = await webkv(["run", "--model", stories(), "--prompt-ids", "1", "--max-tokens", "2", "--chromium", chromium, "--json"]);
    expect(code).toBe(1);
    expect(JSON.parse(stdout)).toEqual({ error: { code: "no_webgpu", message: expect.stringMatching(/returned no adapter|navigator\.gpu is missing/) } });
  });
});

describe("documented forms that used to fail", () => {
  it("--kv-budget 1, 0.5 and 100%: fractions of the largest useful pool (full context), not of the adapter's 1 GiB per layer", async () => {
    const blocks: number[] = [];
    for (const budget of ["1", "0.5", "100%"]) {
      const { code, stdout } = await webkv(["run", "--model", "stories260K", "--prompt-ids", "1", "--max-tokens", "2", "--kv-budget", budget, "--json"]);
      expect(code).toBe(0);
      blocks.push(JSON.parse(stdout).kv.blocks_total);
    }
    // stories260K: context 2048 in blocks of 16 = 128 blocks for one sequence
    expect(blocks).toEqual([128, 64, 128]);
  });
});

describe("lost output", () => {
  it("--json under KV exhaustion (refuse) prints the tokens produced and the error, exit 1", async () => {
    const { code, stdout } = await webkv(["run", "--model", "stories260K", "--prompt-ids", "1", "--max-tokens", "100", "--kv-blocks", "2", "--json"]);
    expect(code).toBe(1);
    const result = JSON.parse(stdout);
    expect(result.stop_reason).toBe("kv_exhausted");
    expect(result.output_ids.length).toBe(32); // 2 blocks of 16 slots hold the prompt and 31 tokens; the 32nd is sampled from them
    expect(result.text.startsWith("Once upon a time")).toBe(true);
    expect(result.error).toMatch(/^KV cache exhausted: 1 more block\(s\) needed, 0 free of 2; .*--kv-policy preempt/);
  });
});
