// What a runtime profile returns: the same outer shape as webkv's own estimate (model, settings, bytes with
// weights, kv and total, formulas, notes), with the other byte categories the engine itself reports.

export type RuntimeId = "webkv" | "llamacpp" | "vllm" | "webllm";
export const RUNTIME_IDS: readonly RuntimeId[] = ["webkv", "llamacpp", "vllm", "webllm"];

export interface RuntimeBytes {
  weights: number;
  kv: number;
  total: number;
  [category: string]: number;
}

export interface RuntimeEstimate {
  runtime: Exclude<RuntimeId, "webkv">;
  model: string;
  settings: Record<string, string | number | boolean>;
  /** One GPU's (or the host's) bytes. */
  bytes: RuntimeBytes;
  /** Extra figures the engine prints (cells, blocks, concurrency). */
  figures: Record<string, number>;
  formulas: string[];
  notes: string[];
}
