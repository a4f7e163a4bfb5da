// What llama.cpp allocates for a model and a context, read from its own log lines (node-llama-cpp 3.22.1,
// CPU backend, one thread). llama.cpp prints each buffer once, in MiB with two decimals:
//   load_tensors:   CPU_Mapped model buffer size =    35.87 MiB     (mmapped file range; one per backend buffer)
//   load_tensors:   CPU_REPACK model buffer size =    12.00 MiB     (weights repacked for the CPU's kernels)
//   llama_context:        CPU  output buffer size =     0.19 MiB
//   llama_kv_cache:        CPU KV buffer size =     6.00 MiB        (one per cache: SWA caches print their own)
//   llama_kv_cache: size =    6.00 MiB (  4096 cells,   2 layers,  1/1 seqs), K (f16): ..., V (f16): ...
//   sched_reserve:        CPU compute buffer size =    99.38 MiB
//   ~llama_context:        CPU compute buffer size is  99.3770 MiB, ...   (four decimals, at context free)
// The log arrives asynchronously: we wait a moment after each step before reading it.

import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";

export type LlamaCppKvType = "F16" | "Q8_0" | "Q4_0" | "F32";

export interface LlamaCppContextRequest {
  contextSize: number;
  kvType: LlamaCppKvType;
  flashAttention: boolean;
  /** Parallel sequences (default 1). */
  sequences?: number;
  /** n_batch = n_ubatch (default 512). */
  batchSize?: number;
}

/** Bytes as llama.cpp printed them (MiB × 2^20, so exact only to the printed decimals), and the text. */
export interface ReportedBuffer {
  mib: number;
  text: string;
}

export interface LlamaCppModelReport {
  /** Model buffers by buffer type name (CPU_Mapped, CPU_REPACK, CPU). */
  model: Record<string, ReportedBuffer>;
}

export interface LlamaCppContextReport {
  kv: ReportedBuffer[];
  kvCells: number[];
  output: ReportedBuffer;
  compute: ReportedBuffer;
  /** The four-decimal figure printed when the context is freed. */
  computeFine?: ReportedBuffer;
  nCtx: number;
  nUbatch: number;
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 250));

let lines: string[] = [];
let llamaPromise: Promise<Llama> | undefined;

function llama(): Promise<Llama> {
  llamaPromise ??= getLlama({
    gpu: false, build: "never", logLevel: LlamaLogLevel.debug,
    logger: (_level, message) => {
      for (const line of message.split("\n")) if (/buffer size|llama_kv_cache: size|n_ctx  |n_ubatch/.test(line)) lines.push(line.trimEnd());
    },
  });
  return llamaPromise;
}

function buffer(match: RegExpMatchArray | null | undefined, what: string): ReportedBuffer {
  if (!match) throw new Error(`llama.cpp printed no ${what}; last lines:\n${lines.slice(-10).join("\n")}`);
  return { mib: Number(match[1]), text: match[1]! };
}

export class LlamaCppBuffers {
  private constructor(private readonly model: LlamaModel, readonly modelReport: LlamaCppModelReport) {}

  static async load(modelPath: string): Promise<LlamaCppBuffers> {
    const instance = await llama();
    lines = [];
    const model = await instance.loadModel({ modelPath, gpuLayers: 0 });
    await settle();
    const report: LlamaCppModelReport = { model: {} };
    for (const line of lines) {
      const match = /load_tensors:\s+(\S+) model buffer size =\s+([\d.]+) MiB/.exec(line);
      if (match) report.model[match[1]!] = { mib: Number(match[2]), text: match[2]! };
    }
    if (Object.keys(report.model).length === 0) throw new Error(`llama.cpp printed no model buffer for ${modelPath}`);
    return new LlamaCppBuffers(model, report);
  }

  async context(request: LlamaCppContextRequest): Promise<LlamaCppContextReport> {
    lines = [];
    const batchSize = request.batchSize ?? 512;
    const context = await this.model.createContext({
      contextSize: request.contextSize,
      sequences: request.sequences ?? 1,
      batchSize,
      threads: 1,
      flashAttention: request.flashAttention,
      experimentalKvCacheKeyType: request.kvType,
      experimentalKvCacheValueType: request.kvType,
    });
    await settle();
    await context.dispose();
    await settle();
    const all = (re: RegExp) => lines.map((l) => re.exec(l)).filter((m): m is RegExpExecArray => m !== null);
    const kv = all(/KV buffer size =\s+([\d.]+) MiB/).map((m) => buffer(m, "KV buffer"));
    const cells = all(/llama_kv_cache: size =.*\(\s*(\d+) cells/).map((m) => Number(m[1]));
    const nCtx = all(/n_ctx\s+=\s+(\d+)/)[0];
    const nUbatch = all(/n_ubatch\s+=\s+(\d+)/)[0];
    const fine = all(/compute buffer size is\s+([\d.]+) MiB/)[0];
    return {
      kv,
      kvCells: cells,
      output: buffer(all(/output buffer size =\s+([\d.]+) MiB/)[0], "output buffer"),
      compute: buffer(all(/compute buffer size =\s+([\d.]+) MiB/)[0], "compute buffer"),
      ...(fine ? { computeFine: buffer(fine, "compute buffer (fine)") } : {}),
      nCtx: Number(nCtx?.[1] ?? NaN),
      nUbatch: Number(nUbatch?.[1] ?? NaN),
    };
  }

  async dispose(): Promise<void> {
    await this.model.dispose();
  }
}

export async function disposeLlamaCppBuffers(): Promise<void> {
  const pending = llamaPromise;
  llamaPromise = undefined;
  if (pending) await (await pending).dispose();
}
