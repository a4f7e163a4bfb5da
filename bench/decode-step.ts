// What a decode step costs, variant against variant, side by side: webkv's kernel variants on the same model,
// interleaved (A B C … per round, ≥ 3 rounds), decode tok/s median and best, and per decode step the dispatches,
// awaited CPU↔GPU syncs and bytes read back (the model's counters, src/model/forward.ts StepCounters).
//   default        the adapter's choices (SwiftShader: GLU folded, norm not, matmuls 4 rows an invocation in decode),
//                  greedy argmax on the GPU (4 bytes a step)
//   full logits    the same, keeping the logits (the whole vocabulary row read back, argmax on the CPU)
//   norm and GLU folded   both fusions (the GPU default)
//   unfused        rmsnorm, matmul and glu as separate calls (the kernels before this work)
//   q/k/v, gate/up apart   q, k and v as three matmuls, gate and up as two (before they were stacked: the
//                  default runs one matmul over [Wq; Wk; Wv] and, on SwiftShader, one over [Wgate; Wup] interleaved)
//   rope apart     RoPE as its own dispatch before the KV append (the default turns q and k in the append's)
//   none of the three      all three as before: the step of the last stop
//   row kernel     matmuls one row an invocation (SwiftShader's kernel before the rows kernel)
//   cooperative    the GPU-shaped matmul (lanes share each row), forced on this adapter
//   not chained    each decode step waits for the last one's id (before: the next step is queued on the GPU
//                  while the last one runs, its ids copied from that step's argmax)
//   per-head decode attention   an invocation per query head and chunk (the GPU kernel; SwiftShader's before
//                  the grouped kernel), with its former SwiftShader chunking (256 keys)
//   subgroup decode matmul   the GPU decode matmul (a row's 4 lanes in one subgroup), forced on this adapter
//   norms by workgroup       rmsnorm a workgroup per row (SwiftShader's before the per-row norm)
//   workgroups of 64         SwiftShader's workgroup size before 16
// Beside the timed run, each variant decodes the same tokens again with GPU timestamps around every kernel: the
// kernels' GPU milliseconds per step (the run's prompt prefill included, as in every variant; the profiled run is
// slower, but its sum is steadier than tok/s on a noisy machine).
// The step's error scope is no longer awaited in any variant (before: 2 syncs a step, see the report's note).
//   npx tsx bench/decode-step.ts [--model path.gguf] [--prompt 32] [--decode 64] [--rounds 3]
// Writes bench/results/decode-step-<model>.json and .md.

import { join } from "node:path";
import { parseArgs } from "node:util";
import type { LoadResult } from "../src/app/runtime.js";
import { machineNote, markdownTable, median, modelsDir, withSession, writeResults } from "./lib.js";

const { values } = parseArgs({ options: { model: { type: "string" }, prompt: { type: "string" }, decode: { type: "string" }, rounds: { type: "string" } } });
const modelPath = values.model ?? join(modelsDir, "stories260K.gguf");
const promptTokens = Number(values.prompt ?? 32);
const decode = Number(values.decode ?? 64);
const rounds = Number(values.rounds ?? 3);

const variants = [
  { name: "default", tuning: {}, keepLogits: false },
  { name: "full logits", tuning: {}, keepLogits: true },
  { name: "norm and GLU folded", tuning: { fuseNorm: true, fuseGlu: true }, keepLogits: false },
  { name: "unfused", tuning: { fuseNorm: false, fuseGlu: false }, keepLogits: false },
  { name: "q/k/v, gate/up apart", tuning: { fuseQkv: false, fuseGateUp: false }, keepLogits: false },
  { name: "rope apart", tuning: { ropeInAppend: false }, keepLogits: false },
  { name: "none of the three", tuning: { fuseQkv: false, fuseGateUp: false, ropeInAppend: false }, keepLogits: false },
  { name: "row kernel", tuning: { matmul: { kind: "row" }, decodeMatmul: { kind: "row" } }, keepLogits: false },
  { name: "cooperative", tuning: { matmul: { kind: "cooperative", rowsPerWorkgroup: 4 }, decodeMatmul: { kind: "cooperative", rowsPerWorkgroup: 4 } }, keepLogits: false },
  { name: "not chained", tuning: { chainDepth: 1 }, keepLogits: false },
  { name: "per-head decode attention", tuning: { decodeAttention: "per-head", decodeMinChunk: 256 }, keepLogits: false },
  { name: "subgroup decode matmul", tuning: { decodeMatmul: { kind: "subgroup", lanesPerRow: 4 } }, keepLogits: false },
  { name: "norms by workgroup", tuning: { rmsnormPerRow: false }, keepLogits: false },
  { name: "workgroups of 64", tuning: { workgroupSize: 64 }, keepLogits: false },
];

interface Counters { steps: number; dispatches: number; syncs: number; readbackBytes: number; chained: number; last: { dispatches: number; syncs: number; readbackBytes: number } }
interface Sample { variant: string; round: number; decode_tok_s: number; gpu_ms_per_step: number; step: Counters["last"]; chainedSteps: number; output: number[] }

const result = await withSession(async (session) => {
  const samples: Sample[] = [];
  let adapter = { vendor: "", architecture: "", description: "" };
  const promptIds = [1, ...Array.from({ length: promptTokens - 1 }, (_, i) => 3 + ((i * 37) % 250))];
  for (let round = 1; round <= rounds; round++) {
    for (const v of variants) {
      const loaded = await session.call<LoadResult>("load", { url: session.publishFile(modelPath), options: { tuning: v.tuning, contextSize: promptTokens + decode + 8 } });
      adapter = loaded.adapter;
      const reply = await session.call<{ output_ids: number[]; timings: { decode_tok_s: number } }>(
        "generate", { modelId: loaded.modelId, promptIds, maxTokens: decode, ignoreEos: true, keepLogits: v.keepLogits },
      );
      const counters = await session.call<Counters>("counters", { modelId: loaded.modelId });
      // the profiled run: a first generate is profiled and dropped (pipelines warm), then the same prompt and steps
      await session.call("profile", { modelId: loaded.modelId, enable: true });
      await session.call("generate", { modelId: loaded.modelId, promptIds, maxTokens: 1, ignoreEos: true, keepLogits: v.keepLogits });
      await session.call("profile", { modelId: loaded.modelId });
      const profiled = await session.call<{ output_ids: number[] }>("generate", { modelId: loaded.modelId, promptIds, maxTokens: decode, ignoreEos: true, keepLogits: v.keepLogits });
      const kernelMs = await session.call<Record<string, number>>("profile", { modelId: loaded.modelId });
      const gpuMsPerStep = Object.values(kernelMs).reduce((a, b) => a + b, 0) / profiled.output_ids.length;
      await session.call("unload", { modelId: loaded.modelId });
      samples.push({ variant: v.name, round, decode_tok_s: reply.timings.decode_tok_s, gpu_ms_per_step: gpuMsPerStep, step: counters.last, chainedSteps: counters.chained, output: reply.output_ids });
      console.error(JSON.stringify({ variant: v.name, round, decode_tok_s: reply.timings.decode_tok_s, gpu_ms_per_step: gpuMsPerStep, step: counters.last }));
    }
  }
  return { samples, adapter };
});

const reference = result.samples.find((s) => s.variant === "default")!.output;
const rows = variants.map((v) => {
  const mine = result.samples.filter((s) => s.variant === v.name);
  const rates = mine.map((s) => s.decode_tok_s);
  return {
    variant: v.name,
    decode_tok_s_median: median(rates),
    decode_tok_s_best: Math.max(...rates),
    gpu_ms_per_step_median: median(mine.map((s) => s.gpu_ms_per_step)),
    ...mine[0]!.step,
    chained_steps: mine[0]!.chainedSteps,
    same_tokens_as_default: mine.every((s) => s.output.join() === reference.join()),
  };
});
const base = rows[0]!.decode_tok_s_median;
const baseGpu = rows[0]!.gpu_ms_per_step_median;
const markdown = [
  `# Decode step: webkv variants side by side`,
  "",
  `Model: ${modelPath.split("/").pop()}, ${promptTokens}-token prompt, ${decode} greedy tokens, ${rounds} interleaved rounds. ${machineNote(result.adapter)}.`,
  "Per decode step: compute dispatches, awaited CPU↔GPU round trips, bytes mapped back. Before this work a step also awaited its error scope (2 syncs) and read back the logits row.",
  "",
  markdownTable(
    ["variant", "decode tok/s median (best)", "default / variant", "kernel GPU ms a step (profiled)", "variant / default GPU ms", "dispatches", "syncs", "bytes read back", "steps chained", "same tokens"],
    rows.map((r) => [
      r.variant, `${r.decode_tok_s_median.toFixed(1)} (${r.decode_tok_s_best.toFixed(1)})`, (base / r.decode_tok_s_median).toFixed(2),
      r.gpu_ms_per_step_median.toFixed(2), (r.gpu_ms_per_step_median / baseGpu).toFixed(2),
      String(r.dispatches), String(r.syncs), String(r.readbackBytes), `${r.chained_steps} / ${decode}`, r.same_tokens_as_default ? "yes" : "no",
    ]),
  ),
].join("\n");
writeResults(`decode-step-${modelPath.split("/").pop()!.replace(/\.gguf$/, "")}`, { model: modelPath.split("/").pop(), promptTokens, decode, rounds, adapter: result.adapter, rows, samples: result.samples.map(({ output: _o, ...s }) => s) }, markdown);
