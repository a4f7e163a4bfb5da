// A Llama-3.2-1B-shaped model in llama.cpp's Q4_K_M mix, under a 128 MiB binding cap: a synthetic Llama
// (dim 2048, 16 layers, 32/8 heads, FFN 8192, vocab 128256, tied embeddings, rope_freqs with llama3 scaling)
// written in F16 by our writer, quantized by llama.cpp itself (llama_model_quantize: Q4_K and Q6_K matrices,
// F32 norms), loaded with maxBindingBytes = 128 MiB so large tensors split into row chunks. Scores teacher-
// forced positions in webkv and in llama.cpp (top-1 agreement, max |Δlogit|) and compares predicted with
// measured memory. Writes bench/results/large-model-kquant.json and .md.
// Needs ~4 GB of disk in the temp folder and a long time on SwiftShader (prefill ≈ 0.2 tok/s there).
//   npx tsx bench/large-model-kquant.ts [--positions 24]

import { statSync } from "node:fs";
import { parseArgs } from "node:util";
import type { LoadResult } from "../src/app/runtime.js";
import { memoryReport, predictRun } from "../src/cli/memory-report.js";
import { GgmlType, ggmlTypeName } from "../src/gguf/types.js";
import type { MemorySnapshot } from "../src/gpu/memory.js";
import { readGgufHeader } from "../src/gguf/reader.js";
import { fileSource } from "../src/gguf/node-source.js";
import { SYNTHETIC_BOS_ID } from "../src/gguf/synthetic.js";
import { compareLogits, describeComparison, randomSequence } from "../tests/reference/compare.js";
import { disposeSharedLlama, llamaCppLogits } from "../tests/reference/llamacpp.js";
import { quantizeWithLlamaCpp } from "../tests/reference/llamacpp-quantize.js";
import { machineNote, markdownTable, scratchDir, withSession, writeResults, writeSynthetic } from "./lib.js";

const { values } = parseArgs({ options: { positions: { type: "string" } } });
const positions = Number(values.positions ?? 24);
const dir = scratchDir("webkv-large-kquant-");
const shape = {
  dim: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256, contextLength: 2048, tiedOutput: true, ropeBase: 500000,
  ropeScaling: { type: "llama3", factor: 32, lowFreqFactor: 1, highFreqFactor: 4, originalContext: 8192 },
} as const;
const cap = 128 * 1024 * 1024;

let started = Date.now();
const f16Path = await writeSynthetic(dir, "llama-3.2-1b-shape-f16", shape, GgmlType.F16, 1237);
console.error(`wrote the F16 model in ${((Date.now() - started) / 1000).toFixed(0)} s`);
started = Date.now();
const modelPath = `${dir}/llama-3.2-1b-shape-q4_k_m.gguf`;
await quantizeWithLlamaCpp(f16Path, modelPath, "Q4_K_M");
const quantizeSeconds = (Date.now() - started) / 1000;
const fileBytes = statSync(modelPath).size;
const source = await fileSource(modelPath);
const header = await readGgufHeader(source);
await source.close?.();
const typeCounts: Record<string, number> = {};
for (const t of header.tensors) typeCounts[ggmlTypeName(t.type)] = (typeCounts[ggmlTypeName(t.type)] ?? 0) + 1;
console.error(`quantized by llama.cpp in ${quantizeSeconds.toFixed(0)} s: ${fileBytes} bytes, ${JSON.stringify(typeCounts)}`);

const ids = randomSequence(SYNTHETIC_BOS_ID, positions, 3, shape.vocab, 7);
const result = await withSession(async (session) => {
  const loaded = await session.call<LoadResult>("load", {
    url: session.publishFile(modelPath),
    options: { maxBindingBytes: cap, kvBlocks: Math.ceil(positions / 16) + 1, maxStepTokens: 16 },
  });
  const scored = await session.call<{ logits: Float32Array; timings: { prefill_tok_s: number }; memory?: MemorySnapshot }>(
    "score", { modelId: loaded.modelId, ids, keepLogits: true },
  );
  const memorySnapshot = await session.call<MemorySnapshot>("memory", { modelId: loaded.modelId });
  const buffers = await session.call<{ label: string; size: number }[]>("buffers", { modelId: loaded.modelId, limit: 100000 });
  const predicted = await predictRun(modelPath, loaded, { promptTokens: ids.length, generatedTokens: 0 });
  return { loaded, scored, memory: memoryReport(memorySnapshot, predicted, { unavailable: "not read in this bench" }), largest: buffers[0] };
});
const vocab = shape.vocab;
const ours = [ids.map((_, p) => result.scored.logits.slice(p * vocab, (p + 1) * vocab))];
const theirs = await llamaCppLogits(modelPath, [ids]);
await disposeSharedLlama();
const comparison = compareLogits(ours, theirs);
console.error(describeComparison("webkv vs llama.cpp, Llama-3.2-1B-shaped Q4_K_M", comparison));
const m = result.memory;
const json = {
  model: { ...shape, weights: "llama.cpp Q4_K_M mix", tensor_types: typeCounts, file_bytes: fileBytes },
  binding_cap_bytes: cap, largest_buffer: result.largest, positions, comparison,
  timings: { load_ms: result.loaded.load_ms, quantize_s: quantizeSeconds, prefill_tok_s: result.scored.timings.prefill_tok_s },
  memory: m, adapter: result.loaded.adapter,
};
const markdown = [
  "# A Llama-3.2-1B-shaped Q4_K_M model (quantized by llama.cpp) under a 128 MiB binding cap",
  "",
  `Synthetic Llama shaped like Llama-3.2-1B with llama3 RoPE scaling (rope_freqs), written in F16 and quantized by llama.cpp's ` +
    `llama_model_quantize to Q4_K_M: ${Object.entries(typeCounts).map(([t, n]) => `${n} × ${t}`).join(", ")}; file ${fileBytes} bytes. ` +
    `Loaded with maxBindingBytes = ${cap}.`,
  "",
  markdownTable(["", "value"], [
    ["teacher-forced positions", String(comparison.positions)],
    ["top-1 agreement with llama.cpp", `${comparison.top1Matches}/${comparison.positions} (${(100 * comparison.top1Agreement).toFixed(2)}%)`],
    ["max abs Δlogit", comparison.maxAbsDiff.toExponential(2)],
    ["largest buffer", `${result.largest?.label} (${result.largest?.size} B)`],
    ["load ms", result.loaded.load_ms.toFixed(0)],
    ["prefill tok/s (SwiftShader)", result.scored.timings.prefill_tok_s.toFixed(2)],
    ["weights measured / predicted", `${m.measured.weights.peak} / ${m.predicted.weights}`],
    ["total measured / predicted", `${m.measured.total.peak} / ${m.predicted.total}`],
  ]),
  "",
  machineNote(result.loaded.adapter),
].join("\n");
writeResults("large-model-kquant", json, markdown);
