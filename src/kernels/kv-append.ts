// Wrapper of shaders/kv_append.wgsl: stores this step's k and v rows into their paged-cache slots.

import kvAppendWgsl from "../../shaders/kv_append.wgsl?raw";
import kvCacheWgsl from "../../shaders/kv_cache.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries, type BufferBinding } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";
import { kvConstants, type KvShape } from "./kv-shape.js";

export async function kvAppendCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; tokens: GPUBuffer; k: GPUBuffer; v: GPUBuffer; kvPool: BufferBinding; blockTables: GPUBuffer },
  shape: KvShape & { workgroupSize: number },
): Promise<KernelCall> {
  const program = await createComputeProgram(
    gpu.device,
    "kv append",
    kernelSource(kvCacheWgsl + kvAppendWgsl, { ...kvConstants(shape), WORKGROUP_SIZE: shape.workgroupSize }),
    layoutEntries(["uniform", "read", "read", "read", "write", "read"]),
  );
  const valuesPerToken = shape.kvHeads * shape.headDim;
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [
      buffers.step, buffers.tokens, buffers.k, buffers.v, buffers.kvPool, buffers.blockTables,
    ]),
    workgroups: (s) => [ceilDiv(valuesPerToken, shape.workgroupSize), s.numTokens, 1],
  };
}
