// Attention at long context on a synthetic Llama (stories260K's shape — 8 query heads, 4 KV heads, head_dim 8 —
// with a 16K context): flash vs naive attention, prefilling 16K tokens as one step and in 512-token chunks,
// then decoding at 16K. Reports time and the peak attention scratch each needs; naive's refusal to allocate
// its 16K×16K score matrix is recorded with its message. The largest live buffer under flash shows that
// nothing of size N×N exists.
//   npx tsx bench/long-context.ts [--context 16384] [--decode 16]
// Writes bench/results/long-context.json and .md.

import { parseArgs } from "node:util";
import type { MemorySnapshot } from "../src/gpu/memory.js";
import { randomTokenIds } from "../src/engine/random-prompt.js";
import { Random } from "../src/gguf/random.js";
import { GgmlType } from "../src/gguf/types.js";
import { machineNote, markdownTable, scratchDir, withSession, writeResults, writeSynthetic } from "./lib.js";

const { values } = parseArgs({ options: { context: { type: "string" }, decode: { type: "string" } } });
const context = Number(values.context ?? 16384);
const decodeTokens = Number(values.decode ?? 16);
const dir = scratchDir("webkv-long-");
const shape = { dim: 64, layers: 2, heads: 8, kvHeads: 4, ffn: 172, vocab: 512, contextLength: context };
const modelPath = await writeSynthetic(dir, "long-context", shape, GgmlType.F32, 3);
const random = new Random(5);
const prompt = [1, ...randomTokenIds(random, context - decodeTokens - 1, shape.vocab)];

interface Row {
  attention: "flash" | "naive";
  prefill_step_tokens: number;
  status: "ok" | "refused";
  message?: string;
  prefill_ms?: number;
  prefill_tok_s?: number;
  decode_tok_s?: number;
  peak_attention_scratch?: number;
  largest_buffer?: { label: string; size: number };
}

const result = await withSession(async (session) => {
  const rows: Row[] = [];
  let adapter = { vendor: "", architecture: "", description: "" };
  for (const [attention, stepTokens] of [["flash", context], ["naive", context], ["flash", 512], ["naive", 512]] as const) {
    const loaded = await session.call<{ modelId: number; adapter: typeof adapter }>("load", {
      url: session.publishFile(modelPath),
      options: { attention, maxStepTokens: stepTokens },
    });
    adapter = loaded.adapter;
    const row: Row = { attention, prefill_step_tokens: stepTokens, status: "ok" };
    try {
      const reply = await session.call<{ timings: { prefill_ms: number; prefill_tok_s: number; decode_tok_s: number }; memory: MemorySnapshot }>(
        "generate",
        { modelId: loaded.modelId, promptIds: prompt, maxTokens: decodeTokens },
      );
      const buffers = await session.call<{ label: string; size: number }[]>("buffers", { modelId: loaded.modelId, limit: 1 });
      Object.assign(row, {
        prefill_ms: reply.timings.prefill_ms,
        prefill_tok_s: reply.timings.prefill_tok_s,
        decode_tok_s: reply.timings.decode_tok_s,
        peak_attention_scratch: reply.memory.attention_scratch.peak,
        largest_buffer: buffers[0],
      });
    } catch (error) {
      row.status = "refused";
      row.message = (error as Error).message;
    }
    await session.call("unload", { modelId: loaded.modelId });
    rows.push(row);
    console.error(JSON.stringify(row));
  }
  return { rows, adapter };
});
const fmt = (n: number | undefined, digits = 1) => (n === undefined ? "—" : n.toFixed(digits));
const json = { model: { ...shape, weights: "F32 (synthetic)" }, context, decode_tokens: decodeTokens, n_by_n_bytes: context * context * shape.heads * 4, ...result };
const markdown = [
  `# Attention at ${context} tokens: flash vs naive`,
  "",
  `Synthetic Llama, ${shape.layers} layers, ${shape.heads} query heads / ${shape.kvHeads} KV heads, head_dim ${shape.dim / shape.heads}. ` +
    `Prompt of ${prompt.length} tokens, then ${decodeTokens} decoded. A full score matrix for one layer would be ` +
    `${context}×${context}×${shape.heads} floats = ${(json.n_by_n_bytes / 2 ** 30).toFixed(1)} GiB.`,
  "",
  markdownTable(
    ["attention", "prefill step", "status", "prefill ms", "prefill tok/s", "decode tok/s", "peak attention scratch (bytes)", "largest live buffer"],
    result.rows.map((r) => [
      r.attention, r.prefill_step_tokens, r.status === "ok" ? "ok" : `refused: ${r.message}`, fmt(r.prefill_ms, 0), fmt(r.prefill_tok_s),
      fmt(r.decode_tok_s), r.peak_attention_scratch ?? "—", r.largest_buffer ? `${r.largest_buffer.label} (${r.largest_buffer.size} B)` : "—",
    ]),
  ),
  "",
  machineNote(result.adapter),
].join("\n");
writeResults("long-context", json, markdown);
