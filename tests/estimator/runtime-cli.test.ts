// `webkv estimate --runtime …` and `--for vllm|llamacpp --gpus …`: JSON in today's shape, launch lines that fit
// or say what fails, one-line usage errors with exit 2.

import { describe, expect, it } from "vitest";
import { estimateCommand } from "../../src/cli/estimate-command.js";

async function run(...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await estimateCommand(argv, (line) => lines.push(line));
  return { code, lines };
}

describe("--runtime", () => {
  it("llamacpp --json: bytes.weights, bytes.kv, compute and output that sum to the total", async () => {
    const { code, lines } = await run("--preset", "llama-3-8b", "--context", "8192", "--runtime", "llamacpp", "--kv", "q8_0", "--weights", "q4_0", "--json");
    expect(code, lines.join("\n")).toBe(0);
    const e = JSON.parse(lines[0]!);
    expect(e.runtime).toBe("llamacpp");
    expect(e.bytes.total).toBe(e.bytes.weights + e.bytes.kv + e.bytes.compute + e.bytes.output);
    expect(e.bytes.kv).toBe(32 * 8192 * 2 * (1024 / 32) * 34);
    expect(e.settings.flash_attention).toBe(true);
  });
  it("vllm with --gpus takes the GPU's memory and tp from the count", async () => {
    const { code, lines } = await run("--preset", "llama-3-70b", "--context", "8192", "--runtime", "vllm", "--gpus", "4xH100-80GB", "--json");
    expect(code, lines.join("\n")).toBe(0);
    const e = JSON.parse(lines[0]!);
    expect(e.settings.tp).toBe(4);
    expect(e.figures.num_gpu_blocks).toBeGreaterThan(0);
  });
  it("webllm prints vram_required_MB with its arithmetic", async () => {
    const { code, lines } = await run("--preset", "smollm2-135m", "--context", "4096", "--runtime", "webllm", "--weights", "q0f16");
    expect(code).toBe(0);
    expect(lines.join("\n")).toMatch(/vram required MB\s+362\.19/);
  });
  it("usage errors are one line and exit 2", async () => {
    for (const argv of [
      ["--preset", "llama-3-8b", "--context", "4096", "--runtime", "tgi"],
      ["--preset", "llama-3-8b", "--context", "4096", "--for", "vllm"],
      ["--preset", "llama-3-8b", "--context", "4096", "--runtime", "llamacpp", "--flash-attention", "maybe"],
      ["--preset", "llama-3-8b", "--context", "4096", "--runtime", "llamacpp", "--kv", "q4_0", "--flash-attention", "off"],
      ["--preset", "llama-3-8b", "--context", "4096", "--runtime", "vllm"],
      ["--preset", "llama-3-8b", "--context", "4096", "--for", "vllm", "--gpus", "8xB300"],
    ]) {
      const { code, lines } = await run(...argv);
      expect(code, argv.join(" ")).toBe(2);
      expect(lines[0]).toMatch(/^webkv estimate: /);
    }
  });
});

describe("--for", () => {
  it("vllm: Llama-3.1-405B in FP8 at 128K on 8×H100 prints a vllm serve line", async () => {
    const { code, lines } = await run("--preset", "llama-3.1-405b", "--context", "128K", "--for", "vllm", "--gpus", "8xH100-80GB", "--weights", "fp8");
    expect(code, lines.join("\n")).toBe(0);
    expect(lines[0]).toMatch(/^vllm serve llama-3.1-405b --tensor-parallel-size 8 --max-model-len 131072 --kv-cache-dtype \w+ --gpu-memory-utilization 0\.9\d? --max-num-seqs \d+$/);
  });
  it("vllm: the same model in bf16 says which constraint fails and by how much (exit 1)", async () => {
    const { code, lines } = await run("--preset", "llama-3.1-405b", "--context", "128K", "--for", "vllm", "--gpus", "8xH100-80GB");
    expect(code).toBe(1);
    expect(lines[0]).toMatch(/does not fit: .* over the .* budget by [\d.]+ GiB/);
  });
  it("llamacpp: -ngl, -c, -ctk/-ctv, -fa, --parallel, --split-mode", async () => {
    const { code, lines } = await run("--preset", "llama-3-70b", "--context", "8192", "--for", "llamacpp", "--gpus", "2xRTX4090", "--weights", "q4_0", "--sequences", "2");
    expect(code, lines.join("\n")).toBe(0);
    expect(lines[0]).toMatch(/^llama-server -m llama-3-70b -ngl 81 -c 16384 -ctk (f16|q8_0|q4_0) -ctv \1 -fa on --parallel 2 --split-mode layer$/);
  });
});
