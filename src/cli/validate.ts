// webkv validate: real generations to each context length, with the KV pool sized for exactly that context,
// and for each the memory three ways — predicted (estimator), measured (allocator peak), observed (GPU
// process) — with relative errors. Exits 1 when predicted and measured differ by more than the tolerance
// for weights or KV (default 2%) or for the total (default 10%).

import type { LoadResult } from "../app/runtime.js";
import type { MemorySnapshot } from "../gpu/memory.js";
import { Random } from "../gguf/random.js";
import { randomTokenIds } from "../engine/random-prompt.js";
import { GpuProcessMonitor, stopWatch } from "../harness/process-memory.js";
import { BrowserSession } from "../harness/session.js";
import { kvFormatFrom, loadOptionsFrom } from "./browser-model.js";
import { memoryReport, predictRun, type MemoryReport } from "./memory-report.js";
import { resolveModel } from "./models.js";
import { BROWSER_OPTIONS, MODEL_OPTIONS, intOption, numberOption, parse, UsageError, type ParsedValues } from "./options.js";
import { formatBytes, markdownTable, percent } from "./report.js";

export const VALIDATE_USAGE = `webkv validate --model M --contexts 128,512,2048 [--kv f32,int8,int4] [--generate N]
           [--tolerance 0.02] [--total-tolerance 0.10] [--block-size N] [--json] [--out FILE.json]`;

export interface ValidationPoint {
  kv: string;
  context: number;
  prompt_tokens: number;
  generated_tokens: number;
  memory: MemoryReport;
  pass: boolean;
}

export interface ValidationOptions {
  modelPath: string;
  contexts: number[];
  kvFormats: string[];
  generate: number;
  tolerance: number;
  totalTolerance: number;
  values: ParsedValues;
  chromium?: string;
  onPoint?: (point: ValidationPoint) => void;
}

export async function runValidation(options: ValidationOptions) {
  const points: ValidationPoint[] = [];
  let adapter: LoadResult["adapter"] | undefined;
  for (const kv of options.kvFormats) {
    for (const context of options.contexts) {
      const values = { ...options.values, kv, "kv-budget": undefined, "kv-blocks": undefined };
      const load = loadOptionsFrom(values);
      const blockSize = load.kvBlockSize ?? 16;
      // A fresh browser per point, so the GPU process's growth is this run's alone.
      const session = await BrowserSession.start({ executablePath: options.chromium });
      try {
        const monitor = await GpuProcessMonitor.start(session.chromium.userDataDir);
        const loaded = await session.call<LoadResult>("load", {
          url: session.publishFile(options.modelPath),
          options: { ...load, kvBlocks: Math.ceil(context / blockSize) },
        });
        adapter = loaded.adapter;
        const generated = Math.min(options.generate, context - 1);
        const random = new Random(context);
        const promptIds = [1, ...randomTokenIds(random, context - generated - 1, loaded.config.vocabSize)];
        const reply = await session.call<{ memory: MemorySnapshot; output_ids: number[] }>("generate", {
          modelId: loaded.modelId, promptIds, maxTokens: generated,
        });
        const observed = await stopWatch(monitor);
        const predicted = await predictRun(options.modelPath, loaded, { promptTokens: promptIds.length, generatedTokens: reply.output_ids.length });
        const memory = memoryReport(reply.memory, predicted, observed);
        const within = (category: string, tolerance: number) => Math.abs(memory.relative_error[category] ?? Infinity) <= tolerance;
        const point: ValidationPoint = {
          kv, context, prompt_tokens: promptIds.length, generated_tokens: reply.output_ids.length, memory,
          pass: within("weights", options.tolerance) && within("kv", options.tolerance) && within("total", options.totalTolerance),
        };
        points.push(point);
        options.onPoint?.(point);
      } finally {
        await session.close();
      }
    }
  }
  return {
    model: options.modelPath.split(/[\\/]/).pop(),
    tolerance: options.tolerance,
    total_tolerance: options.totalTolerance,
    adapter: adapter && { vendor: adapter.vendor, architecture: adapter.architecture, description: adapter.description },
    points,
    pass: points.every((p) => p.pass),
  };
}

/** The categories the table sums into one column. */
const REST = ["activations", "attention_scratch", "staging", "other"] as const;

export function validationTable(result: Awaited<ReturnType<typeof runValidation>>): string {
  return markdownTable(
    ["KV", "context", "weights pred / meas", "err", "kv pred / meas", "err", "activations + scratch + staging + other, pred / meas", "total pred / meas", "err", "observed peak / end (GPU process)", "obs err (peak / end)", "pass"],
    result.points.map((p) => {
      const m = p.memory;
      const rest = (bytes: (category: (typeof REST)[number]) => number) => REST.reduce((n, category) => n + bytes(category), 0);
      return [
        p.kv, p.context,
        `${formatBytes(m.predicted.weights)} / ${formatBytes(m.measured.weights.peak)}`, percent(m.relative_error.weights),
        `${formatBytes(m.predicted.kv)} / ${formatBytes(m.measured.kv.peak)}`, percent(m.relative_error.kv),
        `${formatBytes(rest((c) => m.predicted[c]))} / ${formatBytes(rest((c) => m.measured[c].peak))}`,
        `${formatBytes(m.predicted.total)} / ${formatBytes(m.measured.total.peak)}`, percent(m.relative_error.total),
        m.observed ? `${formatBytes(m.observed.total)} / ${formatBytes(m.observed.at_end)}` : `n/a (${m.observed_note})`,
        m.observed ? `${percent(m.observed.relative_error)} / ${percent(m.observed.at_end_relative_error)}` : "—",
        p.pass ? "yes" : "NO",
      ];
    }),
  );
}

export async function validateCommand(argv: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const { values } = parse(argv, {
    ...BROWSER_OPTIONS, ...MODEL_OPTIONS,
    contexts: { type: "string" }, generate: { type: "string" }, tolerance: { type: "string" },
    "total-tolerance": { type: "string" }, out: { type: "string" },
  });
  if (typeof values.model !== "string") throw new UsageError("--model is required");
  if (typeof values.contexts !== "string") throw new UsageError("--contexts is required, e.g. --contexts 128,512,2048");
  const contexts = values.contexts.split(",").map((c) => Number(c.trim()));
  if (contexts.some((c) => !Number.isInteger(c) || c < 2)) throw new UsageError(`--contexts must be integers ≥ 2, got "${values.contexts}"`);
  const kvFormats = typeof values.kv === "string" ? values.kv.split(",").map((f) => f.trim()) : ["f32"];
  for (const kv of kvFormats) kvFormatFrom({ kv });
  const options: ValidationOptions = {
    modelPath: (await resolveModel(values.model)).path,
    contexts,
    kvFormats,
    generate: intOption(values, "generate", 1, 8)!,
    tolerance: numberOption(values, "tolerance", 0.02)!,
    totalTolerance: numberOption(values, "total-tolerance", 0.1)!,
    values: { ...values, kv: undefined },
    chromium: typeof values.chromium === "string" ? values.chromium : undefined,
    onPoint: values.json ? undefined : (p) => err(`${p.kv} @ ${p.context}: total ${percent(p.memory.relative_error.total)}${p.pass ? "" : "  FAIL"}\n`),
  };
  const result = await runValidation(options);
  if (typeof values.out === "string") {
    const { writeFile } = await import("node:fs/promises");
    await writeFile(values.out, JSON.stringify(result, null, 2) + "\n");
  }
  out(values.json ? JSON.stringify(result) + "\n" : validationTable(result) + "\n");
  if (!result.pass) err(`validate: predicted and measured differ beyond the tolerance (${options.tolerance * 100}% weights/KV, ${options.totalTolerance * 100}% total)\n`);
  return result.pass ? 0 : 1;
}
