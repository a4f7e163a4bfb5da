// `webkv estimate` as a function: JSON output, the longest context that fits, sweep table + SVG,
// model files (GGUF, config.json), and exit code 2 with a message for bad input.

import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { estimateCommand } from "../../src/cli/estimate-command.js";
import { GgmlType, encodeGgufBytes, meta } from "../../src/gguf/index.js";

const dir = mkdtempSync(join(tmpdir(), "webkv-estimate-"));
afterAll(() => {
  // the temporary folder is left to the OS; nothing large is written
});

async function run(...argv: string[]): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  const code = await estimateCommand(argv, (line) => lines.push(line));
  return { code, lines };
}

async function runJson(...argv: string[]) {
  const { code, lines } = await run(...argv, "--json");
  expect(code, lines.join("\n")).toBe(0);
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!);
}

describe("--json", () => {
  it("prints one object with bytes, kv_bytes_per_token and params, consistent with each other", async () => {
    const e = await runJson("--preset", "llama-3-8b", "--context", "128K", "--kv", "int8");
    for (const key of ["weights", "kv", "activations", "attention_scratch", "overhead", "total"]) {
      expect(typeof e.bytes[key], key).toBe("number");
    }
    const b = e.bytes;
    expect(b.total).toBe(b.weights + b.kv + b.activations + b.attention_scratch + b.overhead);
    expect(e.kv_bytes_per_token).toBe(2 * 32 * 8 * 136);
    expect(b.kv).toBe(e.kv_bytes_per_token * 131072);
    expect(e.params.total).toBe(8_030_261_248);
    expect(e.params.active).toBe(e.params.total);
    expect(e.settings.context).toBe(131072);
    expect(e.max_context).toBeUndefined();
    expect(Array.isArray(e.formulas)).toBe(true);
  });

  it("--kv-k / --kv-v / --weights / --tp / --block-size / --sequences reach the estimate", async () => {
    const e = await runJson("--preset", "llama-3-70b", "--context", "1000", "--kv-k", "int8", "--kv-v", "int4",
      "--weights", "q4_k", "--tp", "8", "--block-size", "32", "--sequences", "2");
    expect(e.settings).toMatchObject({ kv_k_format: "int8", kv_v_format: "int4", weight_format: "q4_k", tp: 8, block_size: 32, sequences: 2 });
    expect(e.kv_bytes_per_token).toBe(80 * 1 * (136 + 80));
    expect(e.bytes.kv).toBe(80 * (136 + 80) * 1024 * 2); // 1000 tokens → 32 blocks of 32
  });
});

describe("--gpu-memory", () => {
  it("gives a max_context whose estimate fits while max_context + 1 does not", async () => {
    for (const [id, memory, kv] of [["llama-3-8b", "24GiB", "f16"], ["tinyllama-1.1b", "4GiB", "int4"], ["llama-3-70b", "80GB", "int8"]] as const) {
      const e = await runJson("--preset", id, "--context", "4096", "--kv", kv, "--gpu-memory", memory, "--weights", "q4_k");
      const limit = e.settings.gpu_memory;
      expect(e.max_context, id).toBeGreaterThan(0);
      const at = await runJson("--preset", id, "--context", String(e.max_context), "--kv", kv, "--weights", "q4_k");
      const next = await runJson("--preset", id, "--context", String(e.max_context + 1), "--kv", kv, "--weights", "q4_k");
      expect(at.bytes.total).toBeLessThanOrEqual(limit);
      expect(next.bytes.total).toBeGreaterThan(limit);
    }
  });

  it("prints it in the readable breakdown too", async () => {
    const { code, lines } = await run("--preset", "llama-3-8b", "--context", "8192", "--gpu-memory", "24GiB");
    expect(code).toBe(0);
    const text = lines.join("\n");
    expect(text).toMatch(/^Llama-3-8B \(GQA\)/);
    expect(text).toMatch(/max context\s+72,768 tokens/);
    expect(text).toMatch(/arithmetic:/);
  });
});

describe("--sweep", () => {
  it("prints a table per format and writes an SVG with one polyline per format and device lines", async () => {
    const svgPath = join(dir, "sweep.svg");
    const { code, lines } = await run("--preset", "llama-3-8b", "--sweep", "1024..131072", "--kv", "f16,int8,int4,int2", "--svg", svgPath);
    expect(code, lines.join("\n")).toBe(0);
    const table = lines.slice(1, 10);
    expect(table[0]).toMatch(/context\s+f16 \(GB\)\s+int8 \(GB\)\s+int4 \(GB\)\s+int2 \(GB\)/);
    expect(table.slice(1).map((row) => row.split(/\s+/)[0])).toEqual(["1K", "2K", "4K", "8K", "16K", "32K", "64K", "128K"]);
    const svg = readFileSync(svgPath, "utf8");
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg.trimEnd().endsWith("</svg>")).toBe(true);
    const polylines = [...svg.matchAll(/<polyline class="series" data-kv-format="([^"]+)"[^>]* points="([^"]+)"\/>/g)];
    expect(polylines.map((p) => p[1])).toEqual(["f16", "int8", "int4", "int2"]);
    for (const p of polylines) expect(p[2]!.trim().split(" ")).toHaveLength(8);
    expect([...svg.matchAll(/class="device-line" data-gb="(\d+)"/g)].map((d) => d[1])).toEqual(["24", "40", "80"]);
    expect(svg).toMatch(/context \(tokens per sequence, log2 scale\)/);
    expect(svg).toMatch(/GPU memory \(GB = 2\^30 bytes\)/);
    // every opened element is closed or self-closed
    expect((svg.match(/<text\b/g) ?? []).length).toBe((svg.match(/<\/text>/g) ?? []).length);
  });

  it("f16's line lies above int2's: points further down the SVG mean less memory", async () => {
    const { lines } = await run("--preset", "llama-3-8b", "--sweep", "4096..65536", "--kv", "f16,int2", "--json");
    const result = JSON.parse(lines[0]!);
    expect(result.contexts).toEqual([4096, 8192, 16384, 32768, 65536]);
    const [f16, int2] = result.series;
    f16.points.forEach((p: { bytes: number }, i: number) => expect(p.bytes).toBeGreaterThan(int2.points[i].bytes));
  });
});

describe("model files", () => {
  it("reads a GGUF header and sums its tensors", async () => {
    const rows = 64, vocab = 32;
    const path = join(dir, "tiny.gguf");
    const tensor = (name: string, dims: number[], type: GgmlType, bytes: number) => ({ name, dims, type, bytes: new Uint8Array(bytes) });
    writeFileSync(path, encodeGgufBytes({
      "general.architecture": meta.str("llama"),
      "general.name": meta.str("tiny"),
      "llama.block_count": meta.u32(1),
      "llama.embedding_length": meta.u32(rows),
      "llama.attention.head_count": meta.u32(4),
      "llama.feed_forward_length": meta.u32(128),
      "llama.context_length": meta.u32(256),
      "tokenizer.ggml.tokens": meta.strs(Array.from({ length: vocab }, (_, i) => `t${i}`)),
    }, [
      tensor("token_embd.weight", [rows, vocab], GgmlType.Q8_0, (rows * vocab / 32) * 34),
      tensor("blk.0.attn_q.weight", [rows, rows], GgmlType.F16, rows * rows * 2),
      tensor("output_norm.weight", [rows], GgmlType.F32, rows * 4),
    ]));
    const e = await runJson("--model", path, "--context", "256");
    expect(e.model).toBe("tiny");
    expect(e.settings.weight_format).toBe("gguf");
    expect(e.bytes.weights).toBe((rows * vocab / 32) * 34 + rows * rows * 2 + rows * 4);
    expect(e.kv_bytes_per_token).toBe(2 * 1 * 4 * 16 * 2);
  });

  it("reads a config.json", async () => {
    const path = join(dir, "config.json");
    writeFileSync(path, JSON.stringify({
      model_type: "llama", hidden_size: 2048, intermediate_size: 5632, num_attention_heads: 32, num_key_value_heads: 4,
      num_hidden_layers: 22, vocab_size: 32000, max_position_embeddings: 2048, tie_word_embeddings: false,
    }));
    const e = await runJson("--model", path, "--context", "2048");
    expect(e.params.total).toBe(1_100_048_384); // TinyLlama
  });
});

describe("bad input → exit code 2 and a message naming the problem", () => {
  const cases: [string[], RegExp][] = [
    [["--preset", "llama-9"], /unknown preset "llama-9"/],
    [["--preset", "llama-3-8b", "--context", "0"], /context must be an integer ≥ 1, got 0/],
    [["--preset", "llama-3-8b", "--context", "many"], /--context must be a whole number/],
    [["--preset", "llama-3-8b", "--context", "1024", "--tp", "3"], /tp 3 does not divide the 32 attention heads/],
    [["--preset", "llama-3-8b", "--context", "1024", "--kv", "int3"], /unknown KV format "int3"/],
    [["--preset", "llama-3-8b", "--context", "1024", "--weights", "q9"], /unknown weight format "q9"/],
    [["--preset", "llama-3-8b", "--context", "1024", "--gpu-memory", "lots"], /memory size/],
    [["--preset", "llama-3-8b", "--context", "1024", "--attention", "sparse"], /--attention must be flash or naive/],
    [["--preset", "llama-3-8b"], /--context N is required/],
    [["--context", "1024"], /exactly one of --model <file> or --preset/],
    [["--preset", "llama-3-8b", "--model", "x.gguf", "--context", "1"], /exactly one of/],
    [["--preset", "llama-3-8b", "--context", "1024", "--bogus"], /bogus/],
    [["--preset", "llama-3-8b", "--sweep", "130..250"], /holds no power of two/],
    [["--preset", "llama-3-8b", "--sweep", "4096..1024"], /sweep range/],
    [["--preset", "llama-3-8b", "--context", "1024", "--svg", "x.svg"], /--svg needs --sweep/],
    [["--model", "/nonexistent/config.json", "--context", "1"], /cannot read/],
    [["--model", "/nonexistent/model.gguf", "--context", "1"], /cannot open/],
  ];
  for (const [argv, message] of cases) {
    it(argv.join(" "), async () => {
      const { code, lines } = await run(...argv);
      expect(code).toBe(2);
      expect(lines.join("\n")).toMatch(message);
    });
  }

  it("a file that is neither GGUF nor JSON", async () => {
    const path = join(dir, "notes.txt");
    writeFileSync(path, "hello");
    const { code, lines } = await run("--model", path, "--context", "1");
    expect(code).toBe(2);
    expect(lines[0]).toMatch(/neither a .gguf file nor valid JSON/);
  });

  it("a .gguf that is not a GGUF", async () => {
    const path = join(dir, "fake.gguf");
    writeFileSync(path, "not a gguf at all, just text");
    const { code, lines } = await run("--model", path, "--context", "1");
    expect(code).toBe(2);
    expect(lines[0]).toMatch(/not a GGUF file/);
  });

  it("--help prints the usage and exits 0", async () => {
    const { code, lines } = await run("--help");
    expect(code).toBe(0);
    expect(lines[0]).toMatch(/^usage: webkv estimate/);
  });
});
