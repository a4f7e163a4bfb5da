// webkv quality: how much each KV cache format moves a model's predictions from f32 KV. On a text set
// (the model's own greedy text and seeded samples), it compares teacher-forced next-token distributions
// (KL mean/p99, top-1 agreement, perplexity delta) and greedy continuations of prompts (token agreement,
// first divergence), one format at a time, in one Chromium session.
// The teacher-forced pass feeds --teacher-step tokens per step (default 1, as in generation: every key is
// read back quantized from the step after its block fills). Larger steps read each step's own tokens in full
// precision, as a prompt chunk does.

import { readFile } from "node:fs/promises";
import type { LoadResult } from "../app/runtime.js";
import { compareDistributions, sequenceAgreement, type DistributionComparison } from "../engine/quality.js";
import { BrowserSession } from "../harness/session.js";
import { formatName, parseKvSection, type KvCacheFormat } from "../kv/formats.js";
import { loadOptionsFrom } from "./browser-model.js";
import { resolveModel } from "./models.js";
import { BROWSER_OPTIONS, MODEL_OPTIONS, intOption, parse, UsageError, type ParsedValues } from "./options.js";
import { markdownTable } from "./report.js";

export const QUALITY_USAGE = `webkv quality --model M [--formats f16,int8,int4,K/V,...] [--samples N] [--length N]
           [--prompts FILE.jsonl] [--greedy-tokens N] [--teacher-step N] [--json] [--out FILE.json]`;

export const DEFAULT_QUALITY_FORMATS = ["f16", "int8", "int8-token", "int8-channel", "int4", "int4-token", "int4-channel", "int4-channel/int8"];

export const DEFAULT_PROMPTS = ["Once upon a time", "Lily and Tom", "The little dog", "One day, a", "There was a big", "The sun was", "Tim liked to", "Sara had a red"];

export interface QualityOptions {
  modelPath: string;
  /** "int8", "int4-channel", or "K/V" such as "int4-channel/int8". */
  formats: string[];
  samples: number;
  length: number;
  prompts: string[];
  greedyTokens: number;
  /** Tokens per step in the teacher-forced pass. */
  teacherStep: number;
  load?: ReturnType<typeof loadOptionsFrom>;
}

export interface FormatQuality extends DistributionComparison {
  format: string;
  k: string;
  v: string;
  kv_bytes_per_token_per_layer: number;
  ratio_to_f16: number;
  greedy: ReturnType<typeof sequenceAgreement>;
}

export function parseFormatPair(text: string): KvCacheFormat {
  const [k = "", v = k] = text.split("/");
  return { k: parseKvSection(k, "k"), v: parseKvSection(v, "v") };
}

interface Scored { logits: Float32Array }
interface Generated { outputs: { output_ids: number[] }[][]; prompt_ids: number[][] }

export async function runKvQuality(session: BrowserSession, options: QualityOptions) {
  const url = session.publishFile(options.modelPath);
  const run = (kvFormat: KvCacheFormat | undefined, maxStepTokens?: number) =>
    session.call<LoadResult>("load", { url, options: { ...options.load, kvFormat, maxStepTokens, maxSeqs: Math.max(8, options.prompts.length) } });
  // The text set: greedy from BOS and seeded samples of the f32-KV model itself.
  const reference = await run(undefined);
  const vocab = reference.config.vocabSize;
  const bos = [1];
  const textSet = await session.call<Generated>("generateBatch", {
    modelId: reference.modelId,
    requests: [
      { promptIds: bos, maxTokens: options.length - 1 },
      ...Array.from({ length: options.samples }, (_, i) => ({ promptIds: bos, maxTokens: options.length - 1, temperature: 1, seed: 1000 + i })),
    ],
  });
  const sequences = textSet.outputs.map((o) => [...bos, ...o[0]!.output_ids]);
  const scoreAll = async (kvFormat: KvCacheFormat | undefined) => {
    const { modelId } = await run(kvFormat, options.teacherStep);
    const rows: Float32Array[][] = [];
    for (const ids of sequences) {
      const scored = await session.call<Scored>("score", { modelId, ids, keepLogits: true });
      rows.push(ids.map((_, p) => scored.logits.subarray(p * vocab, (p + 1) * vocab)));
    }
    await session.call("unload", { modelId });
    return rows;
  };
  const greedyAll = async (modelId: number) => {
    const reply = await session.call<Generated>("generateBatch", {
      modelId,
      requests: options.prompts.map((prompt) => ({ prompt, maxTokens: options.greedyTokens })),
    });
    return reply.outputs.map((o) => o[0]!.output_ids);
  };
  const referenceRows = await scoreAll(undefined);
  const referenceGreedy = await greedyAll(reference.modelId);
  const f16Bytes = reference.kv.bytes_per_token_per_layer / 2; // f32 → f16 halves the block
  await session.call("unload", { modelId: reference.modelId });

  const results: FormatQuality[] = [];
  for (const name of options.formats) {
    const format = parseFormatPair(name);
    const rows = await scoreAll(format);
    const loaded = await run(format);
    const greedy = await greedyAll(loaded.modelId);
    await session.call("unload", { modelId: loaded.modelId });
    results.push({
      format: name,
      k: formatName(format.k),
      v: formatName(format.v),
      kv_bytes_per_token_per_layer: loaded.kv.bytes_per_token_per_layer,
      ratio_to_f16: loaded.kv.bytes_per_token_per_layer / f16Bytes,
      ...compareDistributions(sequences, referenceRows, rows),
      greedy: sequenceAgreement(referenceGreedy, greedy),
    });
  }
  return {
    model: options.modelPath.split(/[\\/]/).pop(),
    sequences: sequences.length,
    positions: sequences.reduce((n, s) => n + s.length, 0),
    prompts: options.prompts,
    greedy_tokens: options.greedyTokens,
    teacher_step: options.teacherStep,
    f32_bytes_per_token_per_layer: reference.kv.bytes_per_token_per_layer,
    results,
  };
}

export function qualityTable(report: Awaited<ReturnType<typeof runKvQuality>>): string {
  return markdownTable(
    ["K / V format", "bytes/token/layer", "× f16", "top-1 agreement", "KL mean", "KL p99", "ppl (f32 KV)", "ppl Δ", "greedy tokens agree", "greedy identical"],
    report.results.map((r) => [
      `${r.k} / ${r.v}`,
      r.kv_bytes_per_token_per_layer,
      r.ratio_to_f16.toFixed(4),
      `${(r.top1Agreement * 100).toFixed(2)}%`,
      r.klMean.toExponential(2),
      r.klP99.toExponential(2),
      r.perplexityReference.toFixed(4),
      r.perplexityDelta >= 0 ? `+${r.perplexityDelta.toFixed(4)}` : r.perplexityDelta.toFixed(4),
      `${(r.greedy.tokenAgreement * 100).toFixed(1)}%`,
      `${r.greedy.identical}/${r.greedy.firstDivergence.length}`,
    ]),
  );
}

export async function qualityOptionsFrom(values: ParsedValues): Promise<QualityOptions> {
  if (typeof values.model !== "string") throw new UsageError("--model is required");
  const formats = typeof values.formats === "string" ? values.formats.split(",").map((f) => f.trim()) : DEFAULT_QUALITY_FORMATS;
  for (const f of formats) {
    try {
      parseFormatPair(f);
    } catch (error) {
      throw new UsageError((error as Error).message);
    }
  }
  let prompts = DEFAULT_PROMPTS;
  if (typeof values.prompts === "string") {
    prompts = (await readFile(values.prompts, "utf8")).split("\n").filter((l) => l.trim()).map((l) => JSON.parse(l) as string);
  }
  return {
    modelPath: (await resolveModel(values.model)).path,
    formats,
    samples: intOption(values, "samples", 0, 3)!,
    length: intOption(values, "length", 2, 200)!,
    prompts,
    greedyTokens: intOption(values, "greedy-tokens", 1, 64)!,
    teacherStep: intOption(values, "teacher-step", 1, 1)!,
    load: loadOptionsFrom(values),
  };
}

export async function qualityCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { values } = parse(argv, {
    ...BROWSER_OPTIONS, ...MODEL_OPTIONS,
    formats: { type: "string" }, samples: { type: "string" }, length: { type: "string" },
    prompts: { type: "string" }, "greedy-tokens": { type: "string" }, "teacher-step": { type: "string" }, out: { type: "string" },
  });
  const options = await qualityOptionsFrom(values);
  const session = await BrowserSession.start({ executablePath: typeof values.chromium === "string" ? values.chromium : undefined });
  try {
    const report = await runKvQuality(session, options);
    if (typeof values.out === "string") {
      const { writeFile } = await import("node:fs/promises");
      await writeFile(values.out, JSON.stringify(report, null, 2) + "\n");
    }
    out(values.json ? JSON.stringify(report) + "\n" : qualityTable(report) + "\n");
    return 0;
  } finally {
    await session.close();
  }
}
