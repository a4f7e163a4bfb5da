// Weights as texels on a model of small matrices (tuning.weightTexels; the large matrices' side — SmolLM2-135M shape —
// is bench/decode-inputs.ts's "quants in buffers"): stories260K Q8_0 (no matrix above 32,768 weights: all held in the
// CPU's caches) side by side in one page with its quants as texels (the default on CPU adapters) and in buffers:
// prefill of a 384-token prompt and 128 greedy tokens, interleaved, ≥ 3 rounds, medians, and in how many rounds the
// default was the faster.
//   npx tsx bench/weight-texels.ts [--rounds 5]
// Writes bench/results/weight-texels.json and .md.

import { join } from "node:path";
import { parseArgs } from "node:util";
import { machineNote, markdownTable, median, modelsDir, withSession, writeResults } from "./lib.js";
import { promptTexts, webkvPeer, type Measurement } from "./peer-runners.js";

const { values } = parseArgs({ options: { rounds: { type: "string" } } });
const rounds = Number(values.rounds ?? 5);
if (!(rounds >= 3)) throw new Error("webkv bench weight-texels: --rounds must be at least 3");

const model = join(modelsDir, "stories260K-q8_0.gguf");
const variants = [
  { name: "default (quants as texels)", tuning: {} },
  { name: "quants in buffers", tuning: { weightTexels: false } },
];
const result = await withSession(async (session) => {
  const adapter = await session.call<{ vendor: string; architecture: string; description: string }>("adapter");
  const prompt = (await promptTexts(session, model, [384])).get(384)!;
  const samples: { variant: string; round: number; measurement: Measurement }[] = [];
  for (let round = 1; round <= rounds; round++) {
    for (const v of variants) {
      const measurement = await webkvPeer(session, v.name, { tuning: v.tuning }).run(model, prompt, 384, 128, () => undefined);
      samples.push({ variant: v.name, round, measurement });
      console.error(JSON.stringify({ variant: v.name, round, prefill_tok_s: measurement.prefill_tok_s, decode_tok_s: measurement.decode_tok_s }));
    }
  }
  return { adapter, samples };
});

const of = (variant: string) => result.samples.filter((s) => s.variant === variant);
const base = of(variants[0]!.name);
const rows = variants.map((v) => {
  const mine = of(v.name);
  const faster = (key: "prefill_tok_s" | "decode_tok_s") => mine.filter((s) => base.find((b) => b.round === s.round)!.measurement[key] > s.measurement[key]).length;
  return {
    variant: v.name,
    prefill_tok_s_median: median(mine.map((s) => s.measurement.prefill_tok_s)),
    decode_tok_s_median: median(mine.map((s) => s.measurement.decode_tok_s)),
    rounds_default_faster_prefill: faster("prefill_tok_s"),
    rounds_default_faster_decode: faster("decode_tok_s"),
  };
});
const markdown = [
  "# Weights as texels on a model of small matrices: stories260K Q8_0",
  "",
  `${rounds} interleaved rounds in one page, a 384-token prompt and 128 greedy tokens. ${machineNote(result.adapter)}. The default reads the Q8_0 quants as texels (tuning.weightTexels); "quants in buffers" from storage buffers.`,
  "",
  markdownTable(
    ["variant", "prefill tok/s (median)", "decode tok/s (median)", "default / variant, prefill", "default / variant, decode", "rounds the default was faster (prefill, decode)"],
    rows.map((r) => [
      r.variant, r.prefill_tok_s_median.toFixed(0), r.decode_tok_s_median.toFixed(1), (rows[0]!.prefill_tok_s_median / r.prefill_tok_s_median).toFixed(2),
      (rows[0]!.decode_tok_s_median / r.decode_tok_s_median).toFixed(2), r === rows[0] ? "—" : `${r.rounds_default_faster_prefill}, ${r.rounds_default_faster_decode} of ${rounds}`,
    ]),
  ),
].join("\n");
writeResults("weight-texels", { rounds, adapter: result.adapter, rows, samples: result.samples }, markdown);
