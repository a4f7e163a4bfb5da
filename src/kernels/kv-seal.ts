// Wrapper of shaders/kv_seal.wgsl: quantizes the blocks that fill up in a step, one call per quantized
// section (K, V). Runs before kv append, which then overwrites the tails with the newest partial blocks.

import int8Wgsl from "../../shaders/int8.wgsl?raw";
import kvCacheWgsl from "../../shaders/kv_cache.wgsl?raw";
import kvSealWgsl from "../../shaders/kv_seal.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries, type BufferBinding } from "../gpu/pipelines.js";
import { isQuantized, sectionLayout } from "../kv/formats.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";
import { kvConstants, type KvShape } from "./kv-shape.js";
import { kernelSource } from "./wgsl.js";

export interface KvSealBuffers {
  step: GPUBuffer;
  seqs: GPUBuffer;
  blockTables: GPUBuffer;
  seals: GPUBuffer;
  k: BufferBinding;
  v: BufferBinding;
  kvPool: BufferBinding;
}

/** Invocations one sealing block needs for a section: channel groups of 4 (int8) / 8 (int4), or token groups × slot quads. */
function unitsPerBlock(shape: KvShape, section: "k" | "v"): number {
  const layout = sectionLayout(shape, shape.format[section]);
  const channels = shape.kvHeads * shape.headDim;
  if (layout.grouping === "channel") return channels / (layout.type === "int4" ? 8 : 4);
  return (channels / layout.groupSize) * (shape.blockSize / 4);
}

export async function kvSealCalls(gpu: GpuContext, label: string, buffers: KvSealBuffers, shape: KvShape & { workgroupSize: number }): Promise<KernelCall[]> {
  const calls: KernelCall[] = [];
  for (const section of ["k", "v"] as const) {
    if (!isQuantized(shape.format[section].type)) continue;
    const program = await createComputeProgram(
      gpu.device,
      `kv seal ${section}`,
      kernelSource(int8Wgsl + kvCacheWgsl + kvSealWgsl, { ...kvConstants(shape), SEAL_VALUES: section === "v", WORKGROUP_SIZE: shape.workgroupSize }),
      layoutEntries(["uniform", "read", "read", "read", "read", "write"]),
    );
    const units = unitsPerBlock(shape, section);
    calls.push({
      label: `${label} ${section}`,
      pipeline: program.pipeline,
      bindGroup: bindGroup(gpu.device, program, `${label} ${section}`, [
        buffers.step, buffers.seqs, buffers.blockTables, buffers.seals, section === "k" ? buffers.k : buffers.v, buffers.kvPool,
      ]),
      workgroups: (s) => (s.numSeals > 0 ? [ceilDiv(units, shape.workgroupSize), s.numSeals, 1] : [0, 0, 0]),
    });
  }
  return calls;
}
