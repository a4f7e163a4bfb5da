// Wrapper of shaders/head_norm.wgsl: RMSNorm of every q and k head in place (one workgroup per head row).

import headNormWgsl from "../../shaders/head_norm.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, f32, layoutEntries, type BufferBinding } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import type { KernelCall } from "./kernel-call.js";

export async function headNormCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; q: BufferBinding; k: BufferBinding; qNorm: GPUBuffer; kNorm: GPUBuffer },
  shape: { qHeads: number; kvHeads: number; headDim: number; eps: number; workgroupSize: number },
): Promise<KernelCall> {
  const program = await createComputeProgram(
    gpu.device,
    `head norm ${shape.headDim}`,
    kernelSource(headNormWgsl, {
      Q_HEADS: shape.qHeads,
      KV_HEADS: shape.kvHeads,
      HEAD_DIM: shape.headDim,
      EPS: f32(shape.eps),
      WORKGROUP_SIZE: shape.workgroupSize,
    }),
    layoutEntries(["uniform", "write", "write", "read", "read"]),
  );
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [buffers.step, buffers.q, buffers.k, buffers.qNorm, buffers.kNorm]),
    workgroups: (s) => [shape.qHeads + shape.kvHeads, s.numTokens, 1],
  };
}
