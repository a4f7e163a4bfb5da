// KV format quality on stories260K: each format against f32 KV (webkv quality), written as
// bench/results/kv-quality.json and .md.
//   npx tsx bench/kv-quality.ts [--formats f16,int8,...]

import { parseArgs } from "node:util";
import { DEFAULT_PROMPTS, DEFAULT_QUALITY_FORMATS, qualityTable, runKvQuality } from "../src/cli/quality.js";
import { modelsDir, withSession, writeResults } from "./lib.js";

const { values } = parseArgs({ options: { formats: { type: "string" } } });
const formats = values.formats?.split(",") ?? DEFAULT_QUALITY_FORMATS;
const report = await withSession((session) =>
  runKvQuality(session, {
    modelPath: `${modelsDir}/stories260K.gguf`,
    formats,
    samples: 3,
    length: 200,
    prompts: DEFAULT_PROMPTS,
    greedyTokens: 64,
    teacherStep: 1,
  }),
);
const markdown = [
  `# KV cache formats vs f32 KV on stories260K (head_dim 8)`,
  "",
  `${report.sequences} sequences, ${report.positions} teacher-forced positions (the model's greedy text from BOS and ${report.sequences - 1} seeded samples, ` +
    `fed ${report.teacher_step} token per step as in generation); greedy agreement over ${report.prompts.length} prompts × ${report.greedy_tokens} tokens. ` +
    `Bytes per token per layer come from the allocator's block size (scales included); f32 is ${report.f32_bytes_per_token_per_layer}.`,
  "",
  qualityTable(report),
].join("\n");
writeResults("kv-quality", report, markdown);
