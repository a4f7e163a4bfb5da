// Launch settings for llama.cpp (llama-server) on a set of GPUs: every layer offloaded (-ngl) with the layers split
// across GPUs (--split-mode layer, each GPU holding its layers' weights and KV plus its own compute buffer),
// -c = context × --parallel (llama.cpp divides -c among the parallel slots), flash attention on, and the KV cache
// in f16, then q8_0, then q4_0 until it fits. When no KV type fits, the layers that fit on the GPUs are offloaded
// (-ngl N, the rest on the CPU) and the plan says what that costs.

import type { GpuSpec } from "./gpus.js";
import type { LaunchPlan } from "./launch-vllm.js";
import { estimateLlamaCpp } from "./llamacpp.js";
import type { ModelDescription } from "./model.js";
import { formatBytes } from "./units.js";

export interface LlamaCppLaunchRequest {
  context: number;
  gpus: { count: number; gpu: GpuSpec };
  sequences?: number;
  weightFormat?: string;
  kvCacheType?: string;
  ropeScaling?: boolean;
  modelRef?: string;
}

export function planLlamaCpp(model: ModelDescription, request: LlamaCppLaunchRequest): LaunchPlan {
  const sequences = request.sequences ?? 1;
  const { count, gpu } = request.gpus;
  const types = request.kvCacheType ? [request.kvCacheType] : ["f16", "q8_0", "q4_0"];
  let best: { perGpu: number; type: string; e: ReturnType<typeof estimateLlamaCpp> } | undefined;
  for (const type of types) {
    const e = estimateLlamaCpp(model, {
      context: request.context * sequences, sequences, kvK: type, flashAttention: true,
      ...(request.weightFormat ? { weightFormat: request.weightFormat } : {}), ...(request.ropeScaling ? { ropeScaling: true } : {}),
    });
    const perGpu = (e.bytes.weights + e.bytes.kv) / count + e.bytes.compute! + e.bytes.output!;
    if (!best || perGpu < best.perGpu) best = { perGpu, type, e };
    if (perGpu <= gpu.memory) {
      const flags: Record<string, string | number> = {
        "-ngl": model.layers + 1, "-c": request.context * sequences, "-ctk": type, "-ctv": type, "-fa": "on", "--parallel": sequences,
        ...(count > 1 ? { "--split-mode": "layer" } : {}),
      };
      return {
        runtime: "llamacpp", fits: true, flags, estimate: e,
        command: `llama-server -m ${request.modelRef ?? "model.gguf"} ` + Object.entries(flags).map(([k, v]) => `${k} ${v}`).join(" "),
        lines: [
          `fits on ${count} × ${gpu.name}: per GPU ${formatBytes(perGpu)} of ${formatBytes(gpu.memory)} ` +
            `(weights + KV ${formatBytes(e.bytes.weights + e.bytes.kv)} split ${count} ways, compute ${formatBytes(e.bytes.compute!)}, output ${formatBytes(e.bytes.output!)})`,
          ...e.formulas,
        ],
      };
    }
  }
  const { e, type } = best!;
  const perLayer = (e.bytes.weights + e.bytes.kv) / (model.layers + 1);
  const room = count * (gpu.memory - e.bytes.compute! - e.bytes.output!);
  const layersOnGpu = Math.max(0, Math.min(model.layers, Math.floor(room / perLayer)));
  const lines = [
    `does not fit every layer: ${formatBytes(best!.perGpu)} per GPU needed with a ${type} cache, ${formatBytes(gpu.memory)} available: over by ` +
      `${formatBytes(best!.perGpu - gpu.memory)} per GPU`,
    layersOnGpu > 0
      ? `partial offload: -ngl ${layersOnGpu} puts ${layersOnGpu} of ${model.layers} layers on the GPUs, ${formatBytes((model.layers + 1 - layersOnGpu) * perLayer)} stays in CPU memory`
      : `not even one layer fits beside the compute buffer`,
    ...e.formulas,
  ];
  const flags: Record<string, string | number> = layersOnGpu > 0
    ? { "-ngl": layersOnGpu, "-c": request.context * sequences, "-ctk": type, "-ctv": type, "-fa": "on", "--parallel": sequences, ...(count > 1 ? { "--split-mode": "layer" } : {}) }
    : {};
  return {
    runtime: "llamacpp", fits: false, flags, estimate: e, lines,
    command: layersOnGpu > 0 ? `llama-server -m ${request.modelRef ?? "model.gguf"} ` + Object.entries(flags).map(([k, v]) => `${k} ${v}`).join(" ") : "",
  };
}

