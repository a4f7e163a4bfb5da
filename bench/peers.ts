// webkv against its peers on the same GGUF files, on this machine, measured side by side:
//   webkv            our runtime in headless Chromium (WebGPU; SwiftShader here), greedy, f32 KV unless named
//   wllama 1t / 2t   llama.cpp compiled to WebAssembly (npm @wllama/wllama), one and two threads, in the same
//                    Chromium page, from the same local server (cross-origin isolated, so threads may run)
//   llama.cpp        native llama.cpp through node-llama-cpp (CPU build, one thread): the CPU ceiling
// For every model and context C: load (ms), prefill of a C-token prompt (tok/s), then decode of D tokens at
// context C (tok/s), greedy with end-of-generation ignored. Every engine tokenizes the same prompt text (English,
// cut to C tokens by webkv's tokenizer) and its own counts are used. Runs are interleaved — round r runs every
// peer once, A B C … A B C … — for ≥ 3 rounds; the tables give min and median, and webkv/peer ratios of medians.
// Rates are each engine's own: webkv's scheduler timings, llama.cpp server timings inside wllama, and wall clock
// around node-llama-cpp's evaluation (first token = end of prefill).
//
// A run is a small state machine: queued → loading → prefilling → decoding → done | failed (its error kept).
//   npx tsx bench/peers.ts [--quick] [--rounds 3] [--only <model name part>[,…]] [--resume <records.jsonl>] [--note <text>]
//                          [--before <page dir>] [--out <name>: bench/results/<name>.json, .md, .svg; default peers or peers-quick]
// --before: also run webkv from another build's page (dist/page of an earlier commit, built in a git worktree) as
// the peer "webkv before", in its own browser session, interleaved with the others: a change's before/after.
// --resume takes the records (one JSON line per run, as this script prints them on stderr) of an earlier, interrupted
// invocation on the same machine: models with records there are not run again (each model's peers stay interleaved
// within one invocation); records keep the invocation they carry (0 when they carry none: an earlier run).
// --quick: stories260K F32/Q8_0 (384-token prompt, 128 decoded), its shape with an 8K context at 512 and 2048
// (64 decoded), SmolLM2-135M-shaped Q8_0/Q4_0 with a 16-token prompt and 8 decoded; minutes on an idle machine
// (webkv decodes that model at ≈ 1 tok/s on SwiftShader), much longer on a loaded one. Without it:
// contexts 512/2K/8K and 128/512/2K with 128 decoded, webkv with f16 KV, Q4_K_M (llama.cpp's quantizer) and a
// Llama-3.2-1B-shaped Q4_0 added; hours on SwiftShader.
// Writes bench/results/peers.json, peers.md and peers.svg.

import { readFileSync, writeFileSync } from "node:fs";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GgmlType } from "../src/gguf/types.js";
import { disposeSharedLlama } from "../tests/reference/llamacpp.js";
import { quantizeWithLlamaCpp } from "../tests/reference/llamacpp-quantize.js";
import { BrowserSession as Session } from "../src/harness/session.js";
import { machineNote, markdownTable, median, modelsDir, resultsDir, scratchDir, SMOLLM2_135M_SHAPE, SYNTHETIC_BYTE_TOKENS, writeResults, writeSynthetic } from "./lib.js";
import { barChartSvg } from "./svg-chart.js";
import { llamaCppPeer, promptTexts, webkvPeer, wllamaPeer, type Measurement, type Peer, type RunState } from "./peer-runners.js";

const { values } = parseArgs({ options: { quick: { type: "boolean" }, rounds: { type: "string" }, only: { type: "string" }, resume: { type: "string" }, note: { type: "string" }, out: { type: "string" }, before: { type: "string" } } });
const quick = values.quick ?? false;
const rounds = Number(values.rounds ?? 3);
if (!(rounds >= 1)) throw new Error("--rounds must be ≥ 1");
const dir = scratchDir("webkv-peers-");

// ---- models ------------------------------------------------------------------------------------------------

interface ModelCase {
  name: string;
  path: () => Promise<string>;
  /** Prompt lengths (the context decode runs at). */
  contexts: number[];
  decode: number;
  note: string;
  /** Synthetic vocabularies: random weights pick byte tokens whose text is not UTF-8, which wllama's JSON reply
   *  cannot carry; wllama is asked to never sample them (logit bias), which does not change the work per token. */
  byteTokens?: [number, number];
  /** Load options of webkv for this model (e.g. its KV format); the other peers run their defaults. */
  webkvOptions?: Record<string, unknown>;
}

const llama1bShape = { dim: 2048, layers: 16, heads: 32, kvHeads: 8, ffn: 8192, vocab: 128256, contextLength: 8192, tiedOutput: true, ropeBase: 500000 };
const smolNote = "synthetic Llama shaped like SmolLM2-135M (dim 576, 30 layers, 9/3 heads, FFN 1536, vocab 49152, tied)";
const storiesNote = "llama2.c stories260K (context 512: a 384-token prompt, then decode)";
const stories8kShape = { dim: 64, layers: 5, heads: 8, kvHeads: 4, ffn: 172, vocab: 512, contextLength: 8192 };
const models: ModelCase[] = [
  { name: "stories260K F32", path: async () => join(modelsDir, "stories260K.gguf"), contexts: [384], decode: 128, note: storiesNote },
  { name: "stories260K Q8_0", path: async () => join(modelsDir, "stories260K-q8_0.gguf"), contexts: [384], decode: 128, note: storiesNote },
  {
    name: "stories260K-shape F32, 8K context", path: () => writeSynthetic(dir, "stories-8k", stories8kShape, GgmlType.F32, 3),
    contexts: quick ? [512, 2048] : [512, 2048, 8000], decode: quick ? 64 : 128,
    note: "synthetic Llama with stories260K's shape (dim 64, 5 layers, 8/4 heads, FFN 172, vocab 512) and an 8K context", byteTokens: SYNTHETIC_BYTE_TOKENS,
  },
  {
    // The long-context target: webkv with int8 KV blocks against wllama's f16 KV, decoding at ~8K tokens.
    name: "stories260K-shape F32, 8K context, webkv int8 KV", path: () => writeSynthetic(dir, "stories-8k", stories8kShape, GgmlType.F32, 3),
    contexts: [8000], decode: 64, byteTokens: SYNTHETIC_BYTE_TOKENS,
    note: "the model above at an 8,000-token prompt; webkv keeps K and V in int8 blocks (per-token scales), wllama and llama.cpp in f16",
    webkvOptions: { kvFormat: { k: { type: "int8", grouping: "token" }, v: { type: "int8", grouping: "token" } } },
  },
  { name: "SmolLM2-135M-shape Q8_0", path: () => writeSynthetic(dir, "smol-q8_0", SMOLLM2_135M_SHAPE, GgmlType.Q8_0, 5), contexts: quick ? [16] : [128, 512, 2048], decode: quick ? 8 : 128, note: smolNote, byteTokens: SYNTHETIC_BYTE_TOKENS },
  { name: "SmolLM2-135M-shape Q4_0", path: () => writeSynthetic(dir, "smol-q4_0", SMOLLM2_135M_SHAPE, GgmlType.Q4_0, 5), contexts: quick ? [16] : [128, 512, 2048], decode: quick ? 8 : 128, note: smolNote, byteTokens: SYNTHETIC_BYTE_TOKENS },
];
if (!quick) {
  models.push({
    name: "SmolLM2-135M-shape Q4_K_M",
    path: async () => {
      const f16 = await writeSynthetic(dir, "smol-f16", SMOLLM2_135M_SHAPE, GgmlType.F16, 5);
      const out = join(dir, "smol-q4_k_m.gguf");
      await quantizeWithLlamaCpp(f16, out, "Q4_K_M");
      return out;
    },
    contexts: [128, 512], decode: 128, note: `${smolNote}, quantized by llama.cpp`, byteTokens: SYNTHETIC_BYTE_TOKENS,
  });
  models.push({
    name: "Llama-3.2-1B-shape Q4_0", path: () => writeSynthetic(dir, "llama1b-q4_0", llama1bShape, GgmlType.Q4_0, 7), contexts: [128], decode: 32, byteTokens: SYNTHETIC_BYTE_TOKENS,
    note: "synthetic Llama shaped like Llama-3.2-1B (dim 2048, 16 layers, 32/8 heads, FFN 8192, vocab 128256, tied)",
  });
}

if (values.only) {
  const parts = values.only.split(",");
  models.splice(0, models.length, ...models.filter((m) => parts.some((part) => m.name.includes(part))));
}

// ---- the runs ----------------------------------------------------------------------------------------------

interface RunRecord extends Partial<Measurement> {
  /** 1: the invocation that ran it; 0: an earlier invocation's record without this field (--resume). */
  invocation?: number;
  model: string;
  context: number;
  peer: string;
  round: number;
  state: RunState;
  error?: string;
}

const session = await Session.start({ crossOriginIsolated: true });
const beforeSession = values.before ? await Session.start({ crossOriginIsolated: true, pageDir: values.before }) : undefined;
const records: RunRecord[] = values.resume
  ? readFileSync(values.resume, "utf8").split("\n").filter((line) => line.startsWith("{")).map((line) => ({ invocation: 0, ...(JSON.parse(line) as RunRecord) }))
  : [];
const resumedModels = new Set(records.map((r) => r.model));
let adapter = { vendor: "", architecture: "", description: "" };
try {
  const peers: Peer[] = [
    webkvPeer(session, "webkv", {}),
    ...(beforeSession ? [webkvPeer(beforeSession, "webkv before", {})] : []),
    ...(quick ? [] : [webkvPeer(session, "webkv f16 KV", { kvFormat: { k: { type: "f16", grouping: "token" }, v: { type: "f16", grouping: "token" } } })]),
    ...(quick ? [] : [webkvPeer(session, "webkv unfused", { tuning: { fuseNorm: false, fuseGlu: false } })]),
    wllamaPeer(session, 1),
    wllamaPeer(session, 2),
    llamaCppPeer(),
  ];
  adapter = await session.call("adapter");
  for (const m of models) {
    if (resumedModels.has(m.name)) continue;
    const path = await m.path();
    const prompts = await promptTexts(session, path, m.contexts);
    for (const context of m.contexts) {
      for (let round = 1; round <= rounds; round++) {
        const withOptions = (p: Peer) => (!m.webkvOptions ? p
          : p.name === "webkv" ? webkvPeer(session, "webkv", m.webkvOptions)
          : p.name === "webkv before" ? webkvPeer(beforeSession!, "webkv before", m.webkvOptions) : p);
        for (const peer of peers.map(withOptions)) {
          const record: RunRecord = { invocation: 1, model: m.name, context, peer: peer.name, round, state: "queued" };
          records.push(record);
          try {
            Object.assign(record, await peer.run(path, prompts.get(context)!, context, m.decode, (s) => (record.state = s), m.byteTokens));
          } catch (error) {
            record.error = `${record.state}: ${(error as Error).message.split("\n")[0]}`;
            record.state = "failed";
          }
          console.error(JSON.stringify(record));
        }
      }
    }
  }
} finally {
  await session.close();
  await beforeSession?.close();
  await disposeSharedLlama();
}

// ---- report ------------------------------------------------------------------------------------------------

const peerNames = [...new Set(records.map((r) => r.peer))];
const reported = models.filter((m) => records.some((r) => r.model === m.name));
models.splice(0, models.length, ...reported);
interface Summary {
  model: string; context: number; peer: string; runs: number; failed: number; error?: string;
  load_ms?: { min: number; median: number }; prefill_tok_s?: { max: number; median: number }; decode_tok_s?: { max: number; median: number };
  prompt_tokens?: number; decode_tokens?: number;
}
const summaries: Summary[] = [];
for (const m of models) {
  for (const context of m.contexts) {
    for (const peer of peerNames) {
      const runs = records.filter((r) => r.model === m.name && r.context === context && r.peer === peer);
      const ok = runs.filter((r) => r.state === "done");
      const s: Summary = { model: m.name, context, peer, runs: runs.length, failed: runs.length - ok.length, error: runs.find((r) => r.error)?.error };
      if (ok.length > 0) {
        const pick = (key: "load_ms" | "prefill_tok_s" | "decode_tok_s") => ok.map((r) => r[key]!);
        s.load_ms = { min: Math.min(...pick("load_ms")), median: median(pick("load_ms")) };
        // For rates the best run is the largest (the fastest), the counterpart of a minimum time.
        s.prefill_tok_s = { max: Math.max(...pick("prefill_tok_s")), median: median(pick("prefill_tok_s")) };
        s.decode_tok_s = { max: Math.max(...pick("decode_tok_s")), median: median(pick("decode_tok_s")) };
        s.prompt_tokens = ok[0]!.prompt_tokens;
        s.decode_tokens = ok[0]!.decode_tokens;
      }
      summaries.push(s);
    }
  }
}
const ratio = (model: string, context: number, peer: string, key: "prefill_tok_s" | "decode_tok_s") => {
  const ours = summaries.find((s) => s.model === model && s.context === context && s.peer === "webkv")?.[key]?.median;
  const theirs = summaries.find((s) => s.model === model && s.context === context && s.peer === peer)?.[key]?.median;
  return ours !== undefined && theirs !== undefined ? ours / theirs : undefined;
};
const ratios = models.flatMap((m) => m.contexts.flatMap((context) => peerNames.filter((p) => p !== "webkv").map((peer) => ({
  model: m.name, context, peer, prefill: ratio(m.name, context, peer, "prefill_tok_s"), decode: ratio(m.name, context, peer, "decode_tok_s"),
}))));

const f = (n: number | undefined, digits = 1) => (n === undefined ? "—" : n.toFixed(digits));
const machine = `${cpus().length} × ${cpus()[0]?.model ?? "CPU"}; ${machineNote(adapter)}`;
const json = { quick, rounds, machine, adapter, before: values.before, models: models.map(({ name, contexts, decode, note }) => ({ name, contexts, decode, note })), summaries, ratios, records };
const markdown = [
  `# webkv vs peers${quick ? " (--quick)" : ""}`,
  "",
  `Machine: ${machine}. No GPU: webkv runs on SwiftShader (Vulkan on the CPU); wllama and llama.cpp on the same CPU cores.`,
  `${rounds} interleaved rounds (every peer once per round, in the order of the table). Rates: median (best); load: median (min).`,
  ...(values.note ? [`Note: ${values.note}`] : []),
  ...(values.before ? [`"webkv before": webkv from another build's page (${values.before}), in a browser session of its own, same options.`] : []),
  ...(resumedModels.size ? [`Models run by an earlier invocation of this script on this machine (--resume; records marked invocation 0): ${[...resumedModels].join(", ")}.`] : []),
  "webkv: f32 KV unless the model's name says otherwise, its adapter's kernel choices (on SwiftShader: matmuls 4 rows an invocation in decode, 8 in prefill, Q8_0/Q4_0 bytes read in place — shaders/matmul_rows.wgsl, weights_block8.wgsl —, GLU folded into the up projection, norms not, grouped attention — shaders/attention_flash_grouped.wgsl —, 2 greedy steps in flight); wllama and llama.cpp: their default f16 KV. \"webkv unfused\" turns both fusions off (bench/decode-step.ts compares the variants).",
  "",
  markdownTable(
    ["model", "context", "peer", "prompt tok", "load ms", "prefill tok/s", "decode tok", "decode tok/s", "failed"],
    summaries.map((s) => [
      s.model, String(s.context), s.peer, f(s.prompt_tokens, 0), s.load_ms ? `${f(s.load_ms.median, 0)} (${f(s.load_ms.min, 0)})` : "—",
      s.prefill_tok_s ? `${f(s.prefill_tok_s.median)} (${f(s.prefill_tok_s.max)})` : "—", f(s.decode_tokens, 0),
      s.decode_tok_s ? `${f(s.decode_tok_s.median)} (${f(s.decode_tok_s.max)})` : "—",
      s.failed ? `${s.failed}: ${s.error}` : "0",
    ]),
  ),
  "",
  "## webkv / peer, ratio of medians (> 1: webkv faster)",
  "",
  markdownTable(["model", "context", "peer", "prefill", "decode"], ratios.map((r) => [r.model, String(r.context), r.peer, f(r.prefill, 2), f(r.decode, 2)])),
  "",
  "![decode tok/s](peers.svg)",
].join("\n");
const outName = values.out ?? (quick ? "peers-quick" : "peers");
writeResults(outName, json, markdown.replace("peers.svg", `${outName}.svg`));
writeFileSync(
  join(resultsDir, `${outName}.svg`),
  barChartSvg(
    "decode tok/s (median), log scale",
    models.flatMap((m) => m.contexts.map((context) => `${m.name} @${context}`)),
    peerNames,
    (group, series) => {
      const [model, context] = group.split(" @") as [string, string];
      return summaries.find((s) => s.model === model && s.context === Number(context) && s.peer === series)?.decode_tok_s?.median;
    },
  ),
);
