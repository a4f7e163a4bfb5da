// llama.cpp validation: webkv's llama.cpp profile (src/estimator/llamacpp.ts) against the buffers llama.cpp itself
// reports, for synthetic models of real shapes (SmolLM2-135M, Qwen2.5-0.5B, Llama-3.2-1B, a Llama-3.1-8B-shaped
// GQA-8 model) in F16, Q8_0 and Q4_0 weights, contexts 512…32K, KV f16/q8_0/q4_0, flash attention on and off.
// Layers are cut where noted to keep files small (every layer has the same shape, so each category scales
// by the same per-layer term; the vocabulary-sized buffers keep their real size).
// Predicted figures come from the GGUF header of the file llama.cpp loads, the way `webkv estimate --model` reads it.
// llama.cpp prints MiB with two decimals: weights, KV and output must print the same; compute is compared
// with the four-decimal figure it prints at context free (≤ 5%), the total with the sum of what it printed (≤ 2%).
// Writes bench/results/validate-llamacpp.{json,md,svg} and validate-llamacpp-errors.svg. The model files are kept in bench/results/tmp/ (ignored by
// git) and reused by the next run: they are a pure function of shape, weight type and seed.
//   npx tsx bench/validate-llamacpp.ts [--only smollm2|qwen2.5|llama-3.2|8b]

import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { fromGgufMetadata } from "../src/estimator/parse-gguf.js";
import { estimateLlamaCpp } from "../src/estimator/llamacpp.js";
import { readGgufHeader } from "../src/gguf/reader.js";
import { fileSource } from "../src/gguf/node-source.js";
import { writeGgufFile } from "../src/gguf/node-writer.js";
import { syntheticLlama, type SyntheticLlamaShape } from "../src/gguf/synthetic.js";
import { GgmlType } from "../src/gguf/types.js";
import { disposeLlamaCppBuffers, LlamaCppBuffers, type LlamaCppKvType } from "../tests/reference/llamacpp-buffers.js";
import { markdownTable, resultsDir, writeResults } from "./lib.js";
import { errorSvg, validationSvg, type ValidationDot } from "./validate-llamacpp-svg.js";

const { values } = parseArgs({ options: { only: { type: "string" } } });
const MiB = 1024 * 1024;

interface Case {
  name: string;
  shape: SyntheticLlamaShape;
  realLayers: number;
  weights: GgmlType[];
  contexts: number[];
  /** --parallel values besides 1, checked at the first two contexts. */
  parallel?: number[];
}

const cases: Case[] = [
  {
    name: "smollm2-135m", realLayers: 30, weights: [GgmlType.Q8_0, GgmlType.Q4_0], contexts: [512, 1000, 4096, 8192], parallel: [3],
    shape: { dim: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, contextLength: 8192, tiedOutput: true },
  },
  {
    name: "qwen2.5-0.5b", realLayers: 24, weights: [GgmlType.F16], contexts: [512, 4096, 16384, 32768],
    shape: { architecture: "qwen2", dim: 896, layers: 4, heads: 14, kvHeads: 2, ffn: 4864, vocab: 151936, contextLength: 32768, tiedOutput: true, ropeBase: 1e6 },
  },
  {
    name: "llama-3.2-1b", realLayers: 16, weights: [GgmlType.Q8_0], contexts: [512, 4096, 16384, 32768],
    shape: { dim: 2048, layers: 2, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256, contextLength: 131072, tiedOutput: true, ropeBase: 5e5 },
  },
  {
    name: "8b-gqa8", realLayers: 32, weights: [GgmlType.Q4_0], contexts: [512, 8192, 32768],
    shape: { dim: 4096, layers: 2, heads: 32, kvHeads: 8, ffn: 14336, vocab: 128256, contextLength: 131072, tiedOutput: false, ropeBase: 5e5 },
  },
];
const MODES: { kv: LlamaCppKvType; flash: boolean }[] = [
  { kv: "F16", flash: false }, { kv: "F16", flash: true }, { kv: "Q8_0", flash: true }, { kv: "Q4_0", flash: true },
];

interface Point {
  shape: string; layers: number; weights: string; context: number; sequences: number; kv: string; flash: boolean;
  predicted: Record<string, number>; reported: Record<string, number>; reportedText: Record<string, string>;
  exact: { weights: boolean; kv: boolean; output: boolean }; computeError: number; totalError: number;
}

const dir = join(resultsDir, "tmp", "validate-llamacpp");
mkdirSync(dir, { recursive: true });
const points: Point[] = [];
/** Bytes as C's printf("%.2f") prints them in MiB: exact ties (…625 when the bytes are whole KiB) round to even. */
function mib2(bytes: number): string {
  const hundredths = (bytes * 100) / MiB;
  const floor = Math.floor(hundredths);
  const frac = hundredths - floor;
  const rounded = frac > 0.5 ? floor + 1 : frac < 0.5 ? floor : floor % 2 === 0 ? floor : floor + 1;
  return (rounded / 100).toFixed(2);
}

for (const c of cases) {
  if (values.only && !c.name.startsWith(values.only)) continue;
  for (const type of c.weights) {
    const typeName = GgmlType[type];
    const path = join(dir, `${c.name}-${typeName}.gguf`);
    const started = Date.now();
    if (!existsSync(path)) {
      const synthetic = syntheticLlama(c.shape, { seed: 13, weightType: type, name: `${c.name}-shape` });
      await writeGgufFile(`${path}.partial`, synthetic.metadata, synthetic.tensors);
      renameSync(`${path}.partial`, path);
    }
    const source = await fileSource(path);
    const header = await readGgufHeader(source);
    await source.close?.();
    const model = fromGgufMetadata(
      Object.fromEntries(header.metadata),
      header.tensors.map((t) => ({ name: t.name, dims: t.dims, type: t.type as number, offset: t.relativeOffset })),
    );
    console.log(`${c.name} ${typeName}: ready in ${((Date.now() - started) / 1000).toFixed(0)} s`);
    const llama = await LlamaCppBuffers.load(path);
    const reportedWeights = Object.values(llama.modelReport.model);
    const runs = c.contexts.map((context) => ({ context, sequences: 1 }))
      .concat((c.parallel ?? []).flatMap((sequences) => c.contexts.slice(0, 2).map((context) => ({ context, sequences }))));
    for (const { context, sequences } of runs) {
      for (const mode of MODES) {
        // node-llama-cpp's contextSize is per sequence: it asks llama.cpp for n_ctx = contextSize × sequences
        const reported = await llama.context({ contextSize: context, kvType: mode.kv, flashAttention: mode.flash, sequences });
        const e = estimateLlamaCpp(model, {
          context: context * sequences, sequences, kvK: mode.kv.toLowerCase(), flashAttention: mode.flash, repack: "avx2",
        });
        const rep = {
          weights: reportedWeights.reduce((s, b) => s + b.mib, 0),
          kv: reported.kv.reduce((s, b) => s + b.mib, 0),
          compute: reported.computeFine?.mib ?? reported.compute.mib,
          output: reported.output.mib,
        };
        const total = rep.weights + rep.kv + rep.compute + rep.output;
        const weightsExact = Object.entries(llama.modelReport.model)
          .every(([name, b]) => mib2(e.bytes[`model_${name}`] ?? NaN) === b.text) &&
          Object.keys(llama.modelReport.model).length === Object.keys(e.bytes).filter((k) => k.startsWith("model_")).length;
        const point: Point = {
          shape: c.name, layers: c.shape.layers, weights: typeName, context, sequences, kv: mode.kv.toLowerCase(), flash: mode.flash,
          predicted: { weights: e.bytes.weights / MiB, kv: e.bytes.kv / MiB, compute: e.bytes.compute! / MiB, output: e.bytes.output! / MiB, total: e.bytes.total / MiB },
          reported: { ...rep, total },
          reportedText: {
            weights: Object.entries(llama.modelReport.model).map(([n, b]) => `${n} ${b.text}`).join(" + "),
            kv: reported.kv.map((b) => b.text).join(" + "), output: reported.output.text, compute: reported.computeFine?.text ?? reported.compute.text,
          },
          exact: {
            weights: weightsExact,
            kv: reported.kv.length === 1 && mib2(e.bytes.kv) === reported.kv[0]!.text && reported.kvCells[0] === e.figures.cells_per_sequence,
            output: mib2(e.bytes.output!) === reported.output.text,
          },
          computeError: e.bytes.compute! / MiB / rep.compute - 1,
          totalError: e.bytes.total / MiB / total - 1,
        };
        points.push(point);
        console.log(`${c.name} ${typeName} ctx ${context} × ${sequences} ${mode.kv} fa ${mode.flash ? "on" : "off"}: exact ${JSON.stringify(point.exact)} ` +
          `compute ${(point.computeError * 100).toFixed(2)}% total ${(point.totalError * 100).toFixed(2)}%`);
      }
    }
    await llama.dispose();
  }
}
await disposeLlamaCppBuffers();

const pct = (x: number) => `${(x * 100).toFixed(2)}%`;
const rows = points.map((p) => [
  `${p.shape} (${p.layers} layers)`, p.weights, p.sequences > 1 ? `${p.context} × ${p.sequences}` : p.context, p.kv, p.flash ? "on" : "off",
  `${p.predicted.weights!.toFixed(2)} / ${p.reportedText.weights}`, `${p.predicted.kv!.toFixed(2)} / ${p.reportedText.kv}`,
  `${p.predicted.output!.toFixed(2)} / ${p.reportedText.output}`, `${p.predicted.compute!.toFixed(4)} / ${p.reportedText.compute}`, pct(p.computeError),
  `${p.predicted.total!.toFixed(2)} / ${p.reported.total!.toFixed(2)}`, pct(p.totalError),
  p.exact.weights && p.exact.kv && p.exact.output ? "yes" : "NO",
]);
const exactAll = points.filter((p) => p.exact.weights && p.exact.kv && p.exact.output).length;
const computeErrors = points.map((p) => p.computeError);
const totalErrors = points.map((p) => p.totalError);
const summary = {
  points: points.length,
  shapes: [...new Set(points.map((p) => p.shape))].length,
  exact_weights_kv_output: exactAll,
  compute_error_min: Math.min(...computeErrors), compute_error_max: Math.max(...computeErrors),
  total_error_min: Math.min(...totalErrors), total_error_max: Math.max(...totalErrors),
  compute_within_5pct: computeErrors.filter((e) => Math.abs(e) <= 0.05).length,
  total_within_2pct: totalErrors.filter((e) => Math.abs(e) <= 0.02).length,
};
const markdown = [
  "# webkv estimate --runtime llamacpp vs llama.cpp's reported buffers",
  "",
  "llama.cpp v0.5.0 as bundled by node-llama-cpp 3.22.1, CPU backend (haswell build: Q4_0 matrices repacked), one thread, mmap,",
  "n_ubatch 512, one sequence unless a context says × N (--parallel N: N streams of that many cells). Synthetic models of real shapes written by src/gguf/synthetic.ts; layer counts cut where shown.",
  "Each cell: predicted MiB / what llama.cpp printed (two decimals; compute: the four-decimal figure it prints at context free).",
  "",
  `Points: ${summary.points} over ${summary.shapes} shapes. Weights, KV and output printed identically: ${exactAll} of ${points.length}. ` +
    `Compute error ${pct(summary.compute_error_min)} … ${pct(summary.compute_error_max)} (${summary.compute_within_5pct} within 5%); ` +
    `total error ${pct(summary.total_error_min)} … ${pct(summary.total_error_max)} (${summary.total_within_2pct} within 2%).`,
  "",
  markdownTable(["shape", "weights", "context (× --parallel)", "KV", "flash", "model MiB", "KV MiB", "output MiB", "compute MiB", "compute err", "total MiB", "total err", "exact"], rows),
  "",
  "Charts: validate-llamacpp.svg (predicted vs reported, every category, log-log) and validate-llamacpp-errors.svg (compute and total error per point).",
].join("\n");
writeResults("validate-llamacpp", { llama_cpp: "v0.5.0 (node-llama-cpp 3.22.1)", summary, points }, markdown);
const dots: ValidationDot[] = points.flatMap((p) => ["weights", "kv", "compute", "output", "total"]
  .map((category) => ({ category, predicted: p.predicted[category]!, reported: p.reported[category]! })));
writeFileSync(join(resultsDir, "validate-llamacpp.svg"), validationSvg(dots, "webkv's llama.cpp profile vs llama.cpp's reported buffers"));
writeFileSync(join(resultsDir, "validate-llamacpp-errors.svg"), errorSvg(
  points.map((p) => ({ compute: p.computeError, total: p.totalError, shape: p.shape })), "Compute and total: predicted / reported − 1 per point"));
