// Launch settings for vLLM on a set of GPUs: the smallest tensor-parallel size (a power of two that divides the
// heads, up to the GPU count) whose per-GPU budget holds the weights and at least `sequences` requests of
// max_model_len tokens, trying the KV cache in the model dtype before fp8 and gpu_memory_utilization 0.90 before
// 0.95. When nothing fits, the closest attempt (all GPUs, fp8, 0.95) names the failing constraint and by how much.

import { EstimatorError } from "./errors.js";
import type { GpuSpec } from "./gpus.js";
import type { ModelDescription } from "./model.js";
import type { RuntimeEstimate } from "./runtime-estimate.js";
import { formatBytes, formatCount } from "./units.js";
import { estimateVllm } from "./vllm.js";

export interface LaunchPlan {
  runtime: "vllm" | "llamacpp";
  fits: boolean;
  /** The command-line settings, flag → value. */
  flags: Record<string, string | number>;
  command: string;
  /** Why these settings, or which constraint fails and by how much. */
  lines: string[];
  estimate?: RuntimeEstimate;
}

export interface VllmLaunchRequest {
  context: number;
  gpus: { count: number; gpu: GpuSpec };
  /** Requests of the full context that must fit at once (default 1). */
  sequences?: number;
  weightFormat?: string;
  /** Only this KV dtype (default: auto, then fp8). */
  kvCacheDtype?: string;
  ropeScaling?: boolean;
  /** Weight bytes per GPU at the largest tensor-parallel size, from a vLLM log (scaled by tp for smaller sizes). */
  weightsBytesAtGpus?: number;
  modelRef?: string;
}

function tpCandidates(model: ModelDescription, count: number): number[] {
  const out: number[] = [];
  for (let tp = 1; tp <= count; tp *= 2) {
    if (model.heads % tp !== 0) continue;
    if (!model.mla && (model.kvHeads >= tp ? model.kvHeads % tp !== 0 : tp % model.kvHeads !== 0)) continue;
    out.push(tp);
  }
  return out;
}

export function planVllm(model: ModelDescription, request: VllmLaunchRequest): LaunchPlan {
  const sequences = request.sequences ?? 1;
  const tps = tpCandidates(model, request.gpus.count);
  if (tps.length === 0) throw new EstimatorError(`no tensor-parallel size up to ${request.gpus.count} divides the ${model.heads} heads of ${model.name}`);
  const dtypes = request.kvCacheDtype ? [request.kvCacheDtype] : ["auto", "fp8"];
  const utils = [0.9, 0.95];
  let last: RuntimeEstimate | undefined;
  for (const tp of tps) {
    for (const dtype of dtypes) {
      for (const util of utils) {
        const e = estimateVllm(model, {
          maxModelLen: request.context, tp, gpuMemory: request.gpus.gpu.memory, gpuMemoryUtilization: util, kvCacheDtype: dtype,
          ...(request.weightFormat ? { weightFormat: request.weightFormat } : {}), ...(request.ropeScaling ? { ropeScaling: true } : {}),
          ...(request.weightsBytesAtGpus !== undefined ? { weightsBytes: (request.weightsBytesAtGpus * tps[tps.length - 1]!) / tp } : {}),
        });
        last = e;
        if (e.figures.max_concurrency! >= sequences && e.bytes.available_kv! > 0) {
          const maxNumSeqs = Math.max(1, Math.min(256, Math.floor(e.figures.max_concurrency!)));
          const flags: Record<string, string | number> = {
            "--tensor-parallel-size": tp, "--max-model-len": request.context, "--kv-cache-dtype": dtype,
            "--gpu-memory-utilization": util, "--max-num-seqs": maxNumSeqs,
          };
          return {
            runtime: "vllm", fits: true, flags, estimate: e,
            command: `vllm serve ${request.modelRef ?? model.name} ` + Object.entries(flags).map(([k, v]) => `${k} ${v}`).join(" "),
            lines: [
              `fits on ${tp} of ${request.gpus.count} × ${request.gpus.gpu.name}: weights ${formatBytes(e.bytes.weights)} per GPU, ` +
                `KV ${formatBytes(e.bytes.available_kv!)} per GPU = ${formatCount(e.figures.kv_tokens!)} tokens, ` +
                `${e.figures.max_concurrency!.toFixed(2)} requests of ${formatCount(request.context)} tokens at once`,
              ...e.formulas,
            ],
          };
        }
      }
    }
  }
  const e = last!;
  const budget = request.gpus.gpu.memory * (e.settings.gpu_memory_utilization as number);
  const lines: string[] = [];
  if (e.bytes.weights + e.bytes.activations! + e.bytes.non_torch! > budget) {
    lines.push(
      `does not fit: at tensor-parallel ${e.settings.tp} the weights (${formatBytes(e.bytes.weights)}), activations and non-torch memory need ` +
        `${formatBytes(e.bytes.weights + e.bytes.activations! + e.bytes.non_torch!)} per GPU, over the ${formatBytes(budget)} budget by ` +
        `${formatBytes(e.bytes.weights + e.bytes.activations! + e.bytes.non_torch! - budget)}, before any KV`,
    );
  } else {
    const need = e.bytes.one_request_kv! * sequences;
    lines.push(
      `does not fit: at tensor-parallel ${e.settings.tp}, kv-cache-dtype ${e.settings.kv_cache_dtype}, utilization ${e.settings.gpu_memory_utilization}, ` +
        `${sequences} request(s) of ${formatCount(request.context)} tokens need ${formatBytes(need)} of KV per GPU; ` +
        `${formatBytes(Math.max(0, e.bytes.available_kv!))} is available: short by ${formatBytes(need - Math.max(0, e.bytes.available_kv!))}`,
    );
  }
  return { runtime: "vllm", fits: false, flags: {}, command: "", lines: [...lines, ...e.formulas], estimate: e };
}
