// Wrapper of shaders/kv_append.wgsl: stores this step's k and v rows — into their blocks (f32/f16) or into
// the sequences' full-precision tails (quantized sections, until their block seals) — optionally applying RoPE
// to k and q in the same dispatch (normal layout, unquantized K).

import kvAppendWgsl from "../../shaders/kv_append.wgsl?raw";
import int8Wgsl from "../../shaders/int8.wgsl?raw";
import kvCacheWgsl from "../../shaders/kv_cache.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries, type BufferBinding } from "../gpu/pipelines.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";
import { kvConstants, type KvShape } from "./kv-shape.js";
import { kernelSource } from "./wgsl.js";
import { isQuantized } from "../kv/formats.js";

export interface KvWriteBuffers {
  step: GPUBuffer;
  tokens: GPUBuffer;
  seqs: GPUBuffer;
  k: BufferBinding;
  v: BufferBinding;
  kvPool: BufferBinding;
  blockTables: GPUBuffer;
}

/** main_rope's extra inputs: this step's q rows and RoPE angles (normal layout; see shaders/kv_append.wgsl). */
export interface AppendRope {
  q: BufferBinding;
  cosSin: GPUBuffer;
  qHeads: number;
  ropeDim: number;
}

/** Stores the step's k and v rows; with `rope`, turns k (written back) and q first, in the same dispatch. */
export async function kvAppendCall(
  gpu: GpuContext,
  label: string,
  buffers: KvWriteBuffers,
  shape: KvShape & { workgroupSize: number },
  rope?: AppendRope,
): Promise<KernelCall> {
  if (rope && isQuantized(shape.format.k.type)) {
    throw new Error(`RoPE cannot be applied in the KV append with a ${shape.format.k.type} K section: its seal reads k before the append`);
  }
  const program = await createComputeProgram(
    gpu.device,
    rope ? "kv append with rope" : "kv append",
    kernelSource(int8Wgsl + kvCacheWgsl + kvAppendWgsl, {
      ...kvConstants(shape), Q_HEADS: rope?.qHeads ?? 1, ROPE_DIM: rope?.ropeDim ?? 2, WORKGROUP_SIZE: shape.workgroupSize,
    }),
    layoutEntries(rope
      ? ["uniform", "read", "read", "write", "write", "write", "read", "write", "read"]
      : ["uniform", "read", "read", "read", "read", "write", "read"]),
    rope ? "main_rope" : "main",
  );
  const pairsPerToken = (shape.kvHeads * shape.headDim) / 2 + (rope ? (rope.qHeads * shape.headDim) / 2 : 0);
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [
      buffers.step, buffers.tokens, buffers.seqs, buffers.k, buffers.v, buffers.kvPool, buffers.blockTables,
      ...(rope ? [rope.q, rope.cosSin] : []),
    ]),
    workgroups: (s) => [ceilDiv(pairsPerToken, shape.workgroupSize), s.numTokens, 1],
  };
}
