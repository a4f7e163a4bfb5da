// Decode speed per KV format at 4K context on a synthetic Llama (head_dim 32): prefill 4K tokens, then
// decode, for f32, f16, int8 and int4 (K and V groupings as given). Writes bench/results/kv-formats.json/.md.
//   npx tsx bench/kv-formats.ts [--context 4096] [--decode 32] [--formats f32,f16,int8,int4]

import { parseArgs } from "node:util";
import { parseFormatPair } from "../src/cli/quality.js";
import { randomTokenIds } from "../src/engine/random-prompt.js";
import { Random } from "../src/gguf/random.js";
import { GgmlType } from "../src/gguf/types.js";
import { machineNote, markdownTable, scratchDir, withSession, writeResults, writeSynthetic } from "./lib.js";

const { values } = parseArgs({ options: { context: { type: "string" }, decode: { type: "string" }, formats: { type: "string" } } });
const context = Number(values.context ?? 4096);
const decodeTokens = Number(values.decode ?? 32);
const formats = values.formats?.split(",") ?? ["f32", "f16", "int8", "int4", "int8-token", "int4-channel"];
const dir = scratchDir("webkv-kvformats-");
const shape = { dim: 128, layers: 2, heads: 4, kvHeads: 2, ffn: 256, vocab: 512, contextLength: context };
const modelPath = await writeSynthetic(dir, "kv-formats", shape, GgmlType.F32, 11);
const random = new Random(12);
const prompt = [1, ...randomTokenIds(random, context - decodeTokens - 1, shape.vocab)];
const f16Bytes = 2 * 2 * shape.kvHeads * (shape.dim / shape.heads); // per token per layer: K and V, 2 bytes each

interface Row {
  format: string;
  kv_bytes_per_token_per_layer: number;
  ratio_to_f16: number;
  prefill_tok_s: number;
  decode_tok_s: number;
  decode_attention_ms_per_token: number;
}

const result = await withSession(async (session) => {
  const rows: Row[] = [];
  let adapter = { vendor: "", architecture: "", description: "" };
  for (const name of formats) {
    const kvFormat = parseFormatPair(name);
    const loaded = await session.call<{ modelId: number; adapter: typeof adapter; kv: { bytes_per_token_per_layer: number } }>("load", {
      url: session.publishFile(modelPath),
      options: { kvFormat, maxStepTokens: 512 },
    });
    adapter = loaded.adapter;
    const timed = await session.call<{ timings: { prefill_tok_s: number; decode_tok_s: number } }>("generate", {
      modelId: loaded.modelId, promptIds: prompt, maxTokens: decodeTokens,
    });
    // A second run, profiled: split-K decode and merge kernels run only in the decode steps.
    await session.call("profile", { modelId: loaded.modelId, enable: true });
    await session.call("generate", { modelId: loaded.modelId, promptIds: prompt, maxTokens: decodeTokens });
    const profile = await session.call<Record<string, number>>("profile", { modelId: loaded.modelId });
    const decodeAttention = Object.entries(profile).filter(([k]) => k.startsWith("attention flash decode") || k.startsWith("attention flash merge"))
      .reduce((n, [, ms]) => n + ms, 0);
    rows.push({
      format: name,
      kv_bytes_per_token_per_layer: loaded.kv.bytes_per_token_per_layer,
      ratio_to_f16: loaded.kv.bytes_per_token_per_layer / f16Bytes,
      prefill_tok_s: timed.timings.prefill_tok_s,
      decode_tok_s: timed.timings.decode_tok_s,
      decode_attention_ms_per_token: decodeAttention / (decodeTokens - 1),
    });
    console.error(JSON.stringify(rows.at(-1)));
    await session.call("unload", { modelId: loaded.modelId });
  }
  return { rows, adapter };
});
const f32 = result.rows.find((r) => r.format === "f32");
const json = { model: shape, context, decode_tokens: decodeTokens, ...result };
const markdown = [
  `# Decode speed per KV format at ${context} tokens`,
  "",
  `Synthetic Llama: ${shape.layers} layers, dim ${shape.dim}, ${shape.heads} query / ${shape.kvHeads} KV heads (head_dim ${shape.dim / shape.heads}). ` +
    `Prompt of ${prompt.length} tokens, then ${decodeTokens} decoded. Attention ms/token is the split-K decode + merge kernels' GPU time (timestamp queries).`,
  "",
  markdownTable(
    ["K / V format", "KV bytes/token/layer", "× f16", "prefill tok/s", "decode tok/s", "vs f32", "decode attention ms/token"],
    result.rows.map((r) => [
      r.format, r.kv_bytes_per_token_per_layer, r.ratio_to_f16.toFixed(4), r.prefill_tok_s.toFixed(1), r.decode_tok_s.toFixed(2),
      f32 ? `${((r.decode_tok_s / f32.decode_tok_s - 1) * 100).toFixed(1)}%` : "—", r.decode_attention_ms_per_token.toFixed(2),
    ]),
  ),
  "",
  "Reading the table: only the attention kernels differ between rows (the matmuls are the same), and on this",
  "machine they are bound by arithmetic, not memory: the whole KV of a layer here is 0.3–2 MiB, which stays in",
  "the CPU's caches under SwiftShader, while each value read from a packed format costs extra instructions",
  "(unpack2x16float for f16; unpack4xI8 or nibble shifts plus scale decoding for int8/int4). So fewer bytes do",
  "not buy time here and the conversions cost it; the attention column measures exactly that. On a GPU, decode",
  "attention streams the cache from memory, so its time should follow the bytes read instead; that expectation",
  "has not been measured (no GPU was available when these figures were taken). Timings on this shared VM vary",
  "by up to about 2× between runs; compare rows of one run, not runs.",
  "",
  machineNote(result.adapter),
].join("\n");
writeResults("kv-formats", json, markdown);
