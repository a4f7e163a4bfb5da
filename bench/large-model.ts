// A 1B-parameter model on an adapter that grants only 128 MiB per binding: a synthetic Llama shaped like
// Llama-3.2-1B (dim 2048, 16 layers, 32/8 heads, FFN 8192, vocab 128256, tied embeddings) with Q4_0 matrices
// and an F16 token embedding of 501 MiB — four times one binding. Loaded with maxBindingBytes = 128 MiB, so the
// embedding (also the output head) is split into row chunks, each its own buffer and dispatch. Generates a few
// tokens and reports the chunks and the memory three ways. Writes bench/results/large-model.json and .md.
// Needs ~1.2 GB of disk in the temp folder and several minutes on SwiftShader.
//   npx tsx bench/large-model.ts [--tokens 3]

import { statSync } from "node:fs";
import { parseArgs } from "node:util";
import type { LoadResult } from "../src/app/runtime.js";
import { memoryReport, predictRun } from "../src/cli/memory-report.js";
import { GgmlType } from "../src/gguf/types.js";
import type { MemorySnapshot } from "../src/gpu/memory.js";
import { GpuProcessMonitor, stopWatch } from "../src/harness/process-memory.js";
import { machineNote, markdownTable, scratchDir, withSession, writeResults, writeSynthetic } from "./lib.js";

const { values } = parseArgs({ options: { tokens: { type: "string" } } });
const tokens = Number(values.tokens ?? 3);
const dir = scratchDir("webkv-large-");
const shape = { dim: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256, contextLength: 2048, tiedOutput: true, ropeBase: 500000 };
const cap = 128 * 1024 * 1024;

const started = Date.now();
const modelPath = await writeSynthetic(dir, "llama-3.2-1b-shape-q4_0", shape, GgmlType.Q4_0, 1236, { embeddingType: GgmlType.F16 });
const fileBytes = statSync(modelPath).size;
console.error(`wrote ${fileBytes} bytes in ${((Date.now() - started) / 1000).toFixed(0)} s`);
const result = await withSession(async (session) => {
  const monitor = await GpuProcessMonitor.start(session.chromium.userDataDir);
  const loaded = await session.call<LoadResult>("load", {
    url: session.publishFile(modelPath),
    options: { maxBindingBytes: cap, kvBlocks: 16, maxStepTokens: 16 },
  });
  const promptIds = [1, 450, 4996, 17354];
  const reply = await session.call<{ output_ids: number[]; memory: MemorySnapshot; timings: { prefill_tok_s: number; decode_tok_s: number } }>(
    "generate", { modelId: loaded.modelId, promptIds, maxTokens: tokens },
  );
  const buffers = await session.call<{ label: string; size: number; category: string }[]>("buffers", { modelId: loaded.modelId, limit: 100000 });
  const observed = await stopWatch(monitor);
  const predicted = await predictRun(modelPath, loaded, { promptTokens: promptIds.length, generatedTokens: reply.output_ids.length });
  return {
    loaded, reply, memory: memoryReport(reply.memory, predicted, observed),
    embeddingChunks: buffers.filter((b) => b.label.startsWith("token_embd.weight[")).map((b) => `${b.label}: ${b.size} B`),
    largestBuffer: buffers[0],
  };
});
const { loaded, reply, memory } = result;
const params = shape.vocab * shape.dim + shape.layers * (2 * shape.dim * shape.dim + 2 * shape.dim * (shape.dim / 4) + 3 * shape.dim * shape.ffn + 2 * shape.dim) + shape.dim;
const json = {
  model: { ...shape, params, weights: "Q4_0 matrices, token_embd F16 (tied output head)", file_bytes: fileBytes },
  binding_cap_bytes: cap, embedding_chunks: result.embeddingChunks, largest_buffer: result.largestBuffer,
  output_ids: reply.output_ids, timings: { load_ms: loaded.load_ms, ...reply.timings }, memory, adapter: loaded.adapter,
};
const m = memory;
const markdown = [
  "# A 1B-parameter model under a 128 MiB binding cap",
  "",
  `Synthetic Llama shaped like Llama-3.2-1B (${(params / 1e9).toFixed(2)}B parameters: dim ${shape.dim}, ${shape.layers} layers, ${shape.heads}/${shape.kvHeads} heads, ` +
    `FFN ${shape.ffn}, vocab ${shape.vocab}, tied): Q4_0 matrices, F16 token embedding of ${shape.vocab * shape.dim * 2} bytes, file ${fileBytes} bytes. ` +
    `Loaded with maxBindingBytes = ${cap}: every tensor above it is split into row chunks, each its own buffer and dispatch; no buffer exceeds the cap.`,
  "",
  markdownTable(["", "value"], [
    ["token_embd chunks", result.embeddingChunks.join("; ")],
    ["largest buffer", `${result.largestBuffer?.label} (${result.largestBuffer?.size} B)`],
    ["load ms", loaded.load_ms.toFixed(0)],
    ["prefill tok/s", reply.timings.prefill_tok_s.toFixed(2)],
    ["decode tok/s", reply.timings.decode_tok_s.toFixed(2)],
    ["output ids", reply.output_ids.join(", ")],
    ["weights measured / predicted", `${m.measured.weights.peak} / ${m.predicted.weights}`],
    ["total measured / predicted", `${m.measured.total.peak} / ${m.predicted.total}`],
    ["observed GPU-process growth, peak / end", m.observed ? `${m.observed.total} / ${m.observed.at_end}` : `n/a (${m.observed_note})`],
  ]),
  "",
  machineNote(loaded.adapter),
].join("\n");
writeResults("large-model", json, markdown);
