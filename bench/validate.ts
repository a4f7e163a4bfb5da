// Memory validation: predicted (estimator) vs measured (allocator) vs observed (GPU process) for real
// generations at several contexts and KV formats, on stories260K (F32, Q8_0, Q4_0) and on synthetic Llamas
// written by our GGUF writer: one shaped like SmolLM2-135M with Q4_0 weights (short contexts), one small and
// deep whose KV dominates (up to 8K tokens). Writes bench/results/validate-<model>.json and .md.
//   npx tsx bench/validate.ts [--only stories260K|smollm2|deep]

import { join } from "node:path";
import { parseArgs } from "node:util";
import { runValidation, validationTable } from "../src/cli/validate.js";
import { GgmlType } from "../src/gguf/types.js";
import { machineNote, modelsDir, scratchDir, writeResults, writeSynthetic } from "./lib.js";

const { values } = parseArgs({ options: { only: { type: "string" } } });
const dir = scratchDir("webkv-validate-");
const GENERATE = 8;

const KV = ["f32", "f16", "int8", "int4"];
const runs: { name: string; path: () => Promise<string>; contexts: number[]; kv: string[]; note: string }[] = [
  { name: "stories260K", path: async () => join(modelsDir, "stories260K.gguf"), contexts: [128, 512, 1024, 2048], kv: KV, note: "stories260K.gguf (F32)" },
  { name: "stories260K-q8_0", path: async () => join(modelsDir, "stories260K-q8_0.gguf"), contexts: [128, 512, 1024, 2048], kv: KV, note: "stories260K-q8_0.gguf" },
  { name: "stories260K-q4_0", path: async () => join(modelsDir, "stories260K-q4_0.gguf"), contexts: [128, 512, 1024, 2048], kv: KV, note: "stories260K-q4_0.gguf" },
  {
    name: "smollm2-135m-shape-q4_0",
    path: () => writeSynthetic(dir, "smollm2-135m-shape", { dim: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, contextLength: 2048, tiedOutput: true }, GgmlType.Q4_0, 5),
    contexts: [16, 32, 64, 128],
    kv: ["f32", "f16", "int8"],
    note: "synthetic Llama shaped like SmolLM2-135M (dim 576, 30 layers, 9/3 heads, FFN 1536, vocab 49152, tied), Q4_0 weights",
  },
  {
    name: "deep-kv-dominated",
    path: () => writeSynthetic(dir, "deep-kv", { dim: 64, layers: 8, heads: 4, kvHeads: 4, ffn: 128, vocab: 512, contextLength: 8192 }, GgmlType.F32, 5),
    contexts: [1024, 2048, 4096, 8192],
    kv: ["f32", "f16", "int8", "int4"],
    note: "synthetic small and deep Llama (dim 64, 8 layers, 4 KV heads of 16, FFN 128, vocab 512, F32): KV dominates at long context",
  },
];

for (const run of runs) {
  if (values.only && !run.name.startsWith(values.only)) continue;
  const path = await run.path();
  console.error(`validating ${run.name} …`);
  const result = await runValidation({
    modelPath: path, contexts: run.contexts, kvFormats: run.kv, generate: GENERATE, tolerance: 0.02, totalTolerance: 0.1, values: {},
    onPoint: (p) => console.error(`  ${p.kv} @ ${p.context}: total ${(100 * (p.memory.relative_error.total ?? 0)).toFixed(3)}%`),
  });
  const markdown = [
    `# Memory validation: ${run.name}`,
    "",
    `${run.note}. Each row is a real generation (${GENERATE} tokens after a prompt filling the context) in a fresh Chromium, with the KV pool sized for exactly that context. ` +
      "Predicted: the estimator (src/estimator/webkv.ts) from the GGUF's shapes and the run's settings. Measured: webkv's allocator, peak per category. " +
      "Observed: growth of Chromium's GPU process's resident memory from before the load — at its peak (loading included: SwiftShader's shader compilation briefly holds hundreds of MiB) and at the end of the run.",
    "",
    validationTable(result),
    "",
    `all within tolerance (2% weights and KV, 10% total): ${result.pass ? "yes" : "NO"}`,
    result.adapter ? machineNote(result.adapter) : "",
  ].join("\n");
  writeResults(`validate-${run.name}`, result, markdown);
}
