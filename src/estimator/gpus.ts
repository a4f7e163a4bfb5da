// GPUs for launch planning: memory as sold (GiB of device memory; the driver keeps a few hundred MiB back,
// which vLLM's gpu_memory_utilization headroom absorbs) and, for Apple silicon, the unified memory Metal lets
// one process wire for the GPU (recommendedMaxWorkingSetSize: about 75% of RAM on the larger machines —
// llama.cpp's Metal backend and MLC read the same limit).
// "8xH100-80GB" = 8 GPUs of the H100-80GB entry.

import { EstimatorError } from "./errors.js";
import { GiB } from "./units.js";

export interface GpuSpec {
  id: string;
  name: string;
  /** Memory one GPU offers to one process, in bytes. */
  memory: number;
  /** Interconnect between GPUs of one machine (tensor parallelism across PCIe works but is slow). */
  link: "nvlink" | "pcie" | "unified";
  note: string;
}

const gpu = (id: string, name: string, gib: number, link: GpuSpec["link"], note: string): GpuSpec => ({ id, name, memory: gib * GiB, link, note });

export const GPU_CATALOG: readonly GpuSpec[] = [
  gpu("H100-80GB", "NVIDIA H100 SXM 80GB", 80, "nvlink", "HBM3"),
  gpu("H100-94GB", "NVIDIA H100 NVL 94GB", 94, "nvlink", "HBM3, NVL pairs"),
  gpu("H200-141GB", "NVIDIA H200 141GB", 141, "nvlink", "HBM3e"),
  gpu("A100-80GB", "NVIDIA A100 80GB", 80, "nvlink", "HBM2e"),
  gpu("A100-40GB", "NVIDIA A100 40GB", 40, "nvlink", "HBM2"),
  gpu("L40S-48GB", "NVIDIA L40S 48GB", 48, "pcie", "GDDR6, no NVLink"),
  gpu("RTX3090-24GB", "NVIDIA GeForce RTX 3090", 24, "pcie", "GDDR6X"),
  gpu("RTX4090-24GB", "NVIDIA GeForce RTX 4090", 24, "pcie", "GDDR6X"),
  gpu("RTX5090-32GB", "NVIDIA GeForce RTX 5090", 32, "pcie", "GDDR7"),
  gpu("M2-Ultra-192GB", "Apple M2 Ultra 192 GB", 192 * 0.75, "unified", "75% of 192 GB unified memory wired for the GPU"),
  gpu("M3-Max-128GB", "Apple M3 Max 128 GB", 128 * 0.75, "unified", "75% of 128 GB unified memory wired for the GPU"),
  gpu("M3-Ultra-512GB", "Apple M3 Ultra 512 GB", 512 * 0.75, "unified", "75% of 512 GB unified memory wired for the GPU"),
  gpu("M4-Max-128GB", "Apple M4 Max 128 GB", 128 * 0.75, "unified", "75% of 128 GB unified memory wired for the GPU"),
  gpu("M4-Pro-48GB", "Apple M4 Pro 48 GB", 48 * 0.75, "unified", "75% of 48 GB unified memory wired for the GPU"),
];

/** "8xH100-80GB", "H100" (1 GPU), "2xRTX4090" → count and spec; ids match case-insensitively, size suffix optional. */
export function parseGpus(text: string): { count: number; gpu: GpuSpec } {
  const match = /^\s*(?:(\d+)\s*[xX×]\s*)?([A-Za-z0-9.-]+)\s*$/.exec(text);
  if (!match) throw new EstimatorError(`--gpus must look like 8xH100-80GB, got "${text}"`);
  const count = match[1] === undefined ? 1 : Number(match[1]);
  if (!(count >= 1)) throw new EstimatorError(`--gpus needs at least one GPU, got "${text}"`);
  const wanted = match[2]!.toLowerCase();
  const found = GPU_CATALOG.find((g) => g.id.toLowerCase() === wanted) ??
    GPU_CATALOG.find((g) => g.id.toLowerCase().startsWith(wanted + "-"));
  if (!found) throw new EstimatorError(`unknown GPU "${match[2]}" (known: ${GPU_CATALOG.map((g) => g.id).join(", ")})`);
  return { count, gpu: found };
}
