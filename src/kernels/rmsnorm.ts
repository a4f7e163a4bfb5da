// Wrapper of shaders/rmsnorm.wgsl: one workgroup per row; optionally gathers the step's logit rows, or
// adds the normalized rows into y.

import rmsnormWgsl from "../../shaders/rmsnorm.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, f32, layoutEntries } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import type { KernelCall } from "./kernel-call.js";

export async function rmsnormCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; x: GPUBuffer; weight: GPUBuffer; logitRows: GPUBuffer; y: GPUBuffer },
  shape: { dim: number; eps: number; gatherLogitRows: boolean; accumulate?: boolean; workgroupSize: number },
): Promise<KernelCall> {
  const program = await createComputeProgram(
    gpu.device,
    `rmsnorm ${shape.dim}${shape.gatherLogitRows ? " gather" : ""}${shape.accumulate ? " +=" : ""}`,
    kernelSource(rmsnormWgsl, {
      DIM: shape.dim,
      EPS: f32(shape.eps),
      GATHER_LOGIT_ROWS: shape.gatherLogitRows,
      ACCUMULATE: shape.accumulate ?? false,
      WORKGROUP_SIZE: shape.workgroupSize,
    }),
    layoutEntries(["uniform", "read", "read", "read", "write"]),
  );
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [buffers.step, buffers.x, buffers.weight, buffers.logitRows, buffers.y]),
    workgroups: (s) => [shape.gatherLogitRows ? s.numLogitRows : s.numTokens, 1, 1],
  };
}
