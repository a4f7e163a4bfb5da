// SwiftShader's decode matmul — its inputs, its shape and the weights' layout — side by side on SmolLM2-135M-shaped
// Q8_0 and Q4_0 models (synthetic, our writer): every variant decodes the same greedy tokens from one page,
// interleaved (A B C … per model per round, ≥ 3 rounds), decode tok/s median and best, the default's median over
// each variant's, and in how many rounds the default was the faster.
//   default                  the adapter's choice: Q8_0/Q4_0 inputs quantized to int8 blocks, unpacked once a block
//                            for the bytes in place (shaders/weights_int8.wgsl x_int8_placed), 8 rows an invocation,
//                            8 invocations a workgroup; weights packed in groups of 8 rows (tuning.weightRowGroup),
//                            their quants in rgba32uint textures (tuning.weightTexels)
//   quants in buffers        the same with the quants in storage buffers (weightTexels off: the layout before)
//   rows one by one          the same with the weights packed row by row (weightRowGroup 1)
//   int8, 8 rows × 16        the same in workgroups of 16 invocations
//   int8, 4 rows × 16        4 rows an invocation, 16 invocations (the default of this stop's first change)
//   int8, 4 rows × 4         4 rows, 4 invocations: the f32 inputs' shape
//   f32 inputs               the decode input left f32 (tuning.int8Activations off: the last stop's default)
//   npx tsx bench/decode-inputs.ts [--rounds 5] [--decode 16] [--only "quants in buffers,…"] [--out decode-inputs]
// Writes bench/results/<out>.json and .md (default decode-inputs).

import { parseArgs } from "node:util";
import type { LoadResult } from "../src/app/runtime.js";
import { GgmlType, ggmlTypeName } from "../src/gguf/types.js";
import type { KernelTuning } from "../src/kernels/tuning.js";
import { machineNote, markdownTable, median, scratchDir, SMOLLM2_135M_SHAPE, withSession, writeResults, writeSynthetic } from "./lib.js";

const { values } = parseArgs({ options: { rounds: { type: "string" }, decode: { type: "string" }, only: { type: "string" }, out: { type: "string" } } });
const rounds = Number(values.rounds ?? 5);
const decode = Number(values.decode ?? 16);
if (!(rounds >= 3 && decode >= 1)) throw new Error("webkv bench decode-inputs: --rounds must be at least 3 and --decode at least 1");

const dir = scratchDir("webkv-decode-inputs-");
const models: { name: string; path: string }[] = [];
for (const type of [GgmlType.Q8_0, GgmlType.Q4_0]) {
  models.push({ name: `SmolLM2-135M-shape ${ggmlTypeName(type)}`, path: await writeSynthetic(dir, `smol-${ggmlTypeName(type).toLowerCase()}`, SMOLLM2_135M_SHAPE, type, 5) });
}
const int8Shape = (rowsPerInvocation: 4 | 8, invocations: number): Partial<KernelTuning> =>
  ({ decodeMatmul: { kind: "rows", rowsPerInvocation: 4, bytesInPlace: true, int8Input: { rowsPerInvocation, invocations } } });
const allVariants: { name: string; tuning: Partial<KernelTuning> }[] = [
  { name: "default", tuning: {} },
  { name: "quants in buffers", tuning: { weightTexels: false } },
  { name: "rows one by one", tuning: { weightRowGroup: 1 } },
  { name: "int8, 8 rows × 16", tuning: int8Shape(8, 16) },
  { name: "int8, 4 rows × 16", tuning: int8Shape(4, 16) },
  { name: "int8, 4 rows × 4", tuning: int8Shape(4, 4) },
  { name: "f32 inputs", tuning: { int8Activations: false } },
];
// --only: the default and the named variants (comma-separated)
const only = values.only?.split(",").map((name) => name.trim());
const unknown = only?.filter((name) => !allVariants.some((v) => v.name === name)) ?? [];
if (unknown.length) throw new Error(`webkv bench decode-inputs: no variant named ${unknown.join(", ")} (variants: ${allVariants.map((v) => v.name).join(", ")})`);
const variants = allVariants.filter((v) => v.name === "default" || !only || only.includes(v.name));

interface Sample { model: string; variant: string; round: number; decode_tok_s: number; output: number[] }
const result = await withSession(async (session) => {
  const samples: Sample[] = [];
  let adapter = { vendor: "", architecture: "", description: "" };
  const promptIds = [1, ...Array.from({ length: 15 }, (_, i) => 3 + ((i * 37) % 250))];
  for (let round = 1; round <= rounds; round++) {
    for (const m of models) {
      for (const v of variants) {
        const loaded = await session.call<LoadResult>("load", { url: session.publishFile(m.path), options: { tuning: v.tuning, contextSize: promptIds.length + decode + 8 } });
        adapter = loaded.adapter;
        const reply = await session.call<{ output_ids: number[]; timings: { decode_tok_s: number } }>(
          "generate", { modelId: loaded.modelId, promptIds, maxTokens: decode, ignoreEos: true },
        );
        await session.call("unload", { modelId: loaded.modelId });
        samples.push({ model: m.name, variant: v.name, round, decode_tok_s: reply.timings.decode_tok_s, output: reply.output_ids });
        console.error(JSON.stringify({ model: m.name, variant: v.name, round, decode_tok_s: reply.timings.decode_tok_s }));
      }
    }
  }
  return { samples, adapter };
});

const rows = models.flatMap((m) => {
  const of = (variant: string) => result.samples.filter((s) => s.model === m.name && s.variant === variant);
  const base = median(of("default").map((s) => s.decode_tok_s));
  const reference = of("default")[0]!.output.join();
  return variants.map((v) => {
    const mine = of(v.name);
    const rates = mine.map((s) => s.decode_tok_s);
    return {
      model: m.name, variant: v.name, decode_tok_s_median: median(rates), decode_tok_s_best: Math.max(...rates),
      default_over_variant: base / median(rates), rounds_default_faster: mine.filter((s) => of("default").find((d) => d.round === s.round)!.decode_tok_s > s.decode_tok_s).length,
      same_tokens_as_default: mine.every((s) => s.output.join() === reference),
    };
  });
});
const markdown = [
  "# SwiftShader's decode matmul, side by side: inputs, shape, weight layout",
  "",
  `SmolLM2-135M-shaped synthetic models, a 16-token prompt, ${decode} greedy tokens, ${rounds} interleaved rounds in one page. ${machineNote(result.adapter)}.`,
  "default: int8 inputs unpacked once a block for the bytes in place, 8 rows an invocation, 8 invocations a workgroup, weights packed in groups of 8 rows whose blocks interleave, their quants in rgba32uint textures; quants in buffers: the same with the quants in storage buffers (tuning.weightTexels off); rows one by one: the same with the weights packed row by row (tuning.weightRowGroup 1); int8, R rows × N: the default with R rows an invocation and N invocations a workgroup; f32 inputs: tuning.int8Activations off (4 rows × 4).",
  "",
  markdownTable(
    ["model", "variant", "decode tok/s median (best)", "default / variant", "rounds the default was faster", "same tokens"],
    rows.map((r) => [
      r.model, r.variant, `${r.decode_tok_s_median.toFixed(2)} (${r.decode_tok_s_best.toFixed(2)})`, r.default_over_variant.toFixed(2),
      r.variant === "default" ? "—" : `${r.rounds_default_faster} / ${rounds}`, r.same_tokens_as_default ? "yes" : "no",
    ]),
  ),
].join("\n");
writeResults(values.out ?? "decode-inputs", { decode, rounds, adapter: result.adapter, rows, samples: result.samples.map(({ output: _o, ...s }) => s) }, markdown);
