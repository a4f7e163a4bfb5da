// The webkv command line as a user runs it (the built bin/webkv.js, a real Chromium behind it):
// run / score / tokenize outputs, and clear errors with the documented exit codes.

import { execFile } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { modelsDir } from "../helpers/env.js";

const exec = promisify(execFile);
const bin = resolve(import.meta.dirname, "../../bin/webkv.js");
const tempDir = await mkdtemp(join(tmpdir(), "webkv-cli-"));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

async function webkv(args: string[], env: Record<string, string> = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec("node", [bin, ...args], {
      env: { ...process.env, WEBKV_MODELS: modelsDir, ...env },
      timeout: 120_000,
      maxBuffer: 64 << 20,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const GREEDY_PREFIX = [403, 407, 261, 378, 432, 383, 286, 261];

describe("webkv run", () => {
  it("--json prints one object with ids, text, timings, adapter, kv and memory", async () => {
    const { code, stdout } = await webkv(["run", "--model", "stories260K", "--prompt-ids", "1", "--max-tokens", "8", "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.prompt_ids).toEqual([1]);
    expect(result.output_ids).toEqual(GREEDY_PREFIX);
    expect(result.text).toBe("Once upon a time, there was a");
    for (const key of ["load_ms", "prefill_ms", "decode_ms", "prefill_tok_s", "decode_tok_s"]) expect(result.timings[key]).toBeGreaterThan(0);
    expect(result.adapter.architecture).toBe("swiftshader");
    expect(result.kv.block_size).toBe(16);
    expect(result.memory.measured.weights.live).toBe(1171200);
  });

  it("streams the text of a prompt, then timings and the memory table on stderr", async () => {
    const { code, stdout, stderr } = await webkv(["run", "--model", "stories260K", "--prompt", "Once upon a time", "--max-tokens", "24"]);
    expect(code).toBe(0);
    expect(stdout.startsWith("Once upon a time, there was a little girl named Lily.")).toBe(true);
    expect(stderr).toMatch(/decode [\d.]+ tok\/s/);
    expect(stderr).toMatch(/weights\s+1\.12 MiB/);
  });

  it("sampling with a seed is reproducible", async () => {
    const args = ["run", "--model", "stories260K", "--prompt-ids", "1", "--max-tokens", "20", "--temperature", "0.9", "--top-k", "40", "--top-p", "0.95", "--seed", "42", "--json"];
    const [a, b] = await Promise.all([webkv(args), webkv(args)]);
    expect(JSON.parse(a.stdout).output_ids).toEqual(JSON.parse(b.stdout).output_ids);
    expect(JSON.parse(a.stdout).output_ids).not.toEqual([...GREEDY_PREFIX]);
  });
});

describe("KV options", () => {
  it("--kv int4 --json reports the format and its bytes per token per layer from the allocator", async () => {
    const { code, stdout } = await webkv(["run", "--model", "stories260K", "--prompt-ids", "1", "--max-tokens", "40", "--kv", "int4", "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.kv.format).toEqual({ k: "int4-channel", v: "int4-token" });
    expect(result.kv.bytes_per_token_per_layer).toBe(38); // f32 is 256, f16 128
    expect(result.output_ids).toHaveLength(40);
  });

  it("--kv-k / --kv-v set K and V independently; bad names exit 2", async () => {
    const { stdout } = await webkv(["run", "--model", "stories260K", "--prompt-ids", "1", "--max-tokens", "4", "--kv-k", "f16", "--kv-v", "int8", "--json"]);
    expect(JSON.parse(stdout).kv.format).toEqual({ k: "f16", v: "int8-token" });
    const bad = await webkv(["run", "--model", "stories260K", "--kv", "int3"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/unknown KV format "int3"/);
  });
});

describe("webkv score and tokenize", () => {
  it("score --json: top1, logprob and perplexity", async () => {
    const ids = [1, 403, 407, 261, 378, 432];
    const { code, stdout } = await webkv(["score", "--model", "stories260K", "--ids", ids.join(","), "--json"]);
    expect(code).toBe(0);
    const result = JSON.parse(stdout);
    expect(result.top1.slice(0, 5)).toEqual(ids.slice(1));
    expect(result.logprob).toHaveLength(5);
    expect(result.perplexity).toBeCloseTo(Math.exp(-result.logprob.reduce((a: number, b: number) => a + b, 0) / 5), 10);
  });

  it("tokenize --text, --bos, --json and --jsonl", async () => {
    const plain = await webkv(["tokenize", "--model", "stories260K", "--text", "Once upon a time"]);
    expect(plain.stdout.trim()).toBe("403 407 261 378");
    const bos = await webkv(["tokenize", "--model", "stories260K", "--text", "Once upon a time", "--bos", "--json"]);
    expect(JSON.parse(bos.stdout)).toEqual([1, 403, 407, 261, 378]);
    const jsonl = join(tempDir, "texts.jsonl");
    await writeFile(jsonl, `${JSON.stringify("Once upon a time")}\n${JSON.stringify("Lily")}\n`);
    const lines = (await webkv(["tokenize", "--model", "stories260K", "--jsonl", jsonl])).stdout.trim().split("\n");
    expect(lines.map((l) => JSON.parse(l))[0]).toEqual([403, 407, 261, 378]);
    expect(lines).toHaveLength(2);
  });
});

describe("errors name the problem", () => {
  it("usage errors exit 2", async () => {
    for (const args of [
      ["run", "--model", "stories260K", "--prompt", "a", "--prompt-ids", "1"],
      ["run", "--model", "stories260K", "--temperature", "-1"],
      ["run", "--model", "stories260K", "--attention", "fast"],
      ["run", "--model", "stories260K", "--bogus"],
      ["score", "--model", "stories260K", "--ids", "1,x"],
      ["frobnicate"],
    ]) {
      const { code, stderr } = await webkv(args);
      expect(code, args.join(" ")).toBe(2);
      expect(stderr.length).toBeGreaterThan(10);
    }
  });

  it("an unknown model lists the known names; a missing local model says where to put it", async () => {
    const unknown = await webkv(["run", "--model", "no-such-model"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/known: .*stories260K/);
    const empty = await mkdtemp(join(tempDir, "empty-"));
    const missing = await webkv(["run", "--model", "stories260K-q8_0"], { WEBKV_MODELS: empty, WEBKV_CACHE: empty });
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/place stories260K-q8_0\.gguf in \$WEBKV_MODELS/);
  });

  it("a file that does not match its manifest's sha256 is refused", async () => {
    const dir = await mkdtemp(join(tempDir, "models-"));
    await writeFile(join(dir, "stories260K.gguf"), "not the model");
    const { code, stderr } = await webkv(["run", "--model", "stories260K"], { WEBKV_MODELS: dir });
    expect(code).toBe(1);
    expect(stderr).toMatch(/sha256 .* expected 270cba1b/);
  });

  it("a malformed GGUF given by path fails with the reader's message, exit 1", async () => {
    const path = join(tempDir, "bad.gguf");
    await writeFile(path, "GGUF\u0009\u0000\u0000\u0000");
    const { code, stderr } = await webkv(["run", "--model", path]);
    expect(code).toBe(1);
    expect(stderr).toMatch(/GGUF version 9 is not supported/);
  });
});
