// Wrapper of shaders/kv_append.wgsl: stores this step's k and v rows — into their blocks (f32/f16) or into
// the sequences' full-precision tails (quantized sections, until their block seals).

import kvAppendWgsl from "../../shaders/kv_append.wgsl?raw";
import kvCacheWgsl from "../../shaders/kv_cache.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries, type BufferBinding } from "../gpu/pipelines.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";
import { kvConstants, type KvShape } from "./kv-shape.js";
import { kernelSource } from "./wgsl.js";

export interface KvWriteBuffers {
  step: GPUBuffer;
  tokens: GPUBuffer;
  seqs: GPUBuffer;
  k: BufferBinding;
  v: BufferBinding;
  kvPool: BufferBinding;
  blockTables: GPUBuffer;
}

export async function kvAppendCall(gpu: GpuContext, label: string, buffers: KvWriteBuffers, shape: KvShape & { workgroupSize: number }): Promise<KernelCall> {
  const program = await createComputeProgram(
    gpu.device,
    "kv append",
    kernelSource(kvCacheWgsl + kvAppendWgsl, { ...kvConstants(shape), WORKGROUP_SIZE: shape.workgroupSize }),
    layoutEntries(["uniform", "read", "read", "read", "read", "write", "read"]),
  );
  const pairsPerToken = (shape.kvHeads * shape.headDim) / 2;
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [
      buffers.step, buffers.tokens, buffers.seqs, buffers.k, buffers.v, buffers.kvPool, buffers.blockTables,
    ]),
    workgroups: (s) => [ceilDiv(pairsPerToken, shape.workgroupSize), s.numTokens, 1],
  };
}
