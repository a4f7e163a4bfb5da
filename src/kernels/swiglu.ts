// Wrapper of shaders/swiglu.wgsl: gate ← silu(gate)·up, in place.

import swigluWgsl from "../../shaders/swiglu.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";

export async function swigluCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; up: GPUBuffer; gate: GPUBuffer },
  shape: { ffnDim: number; workgroupSize: number },
): Promise<KernelCall> {
  const program = await createComputeProgram(
    gpu.device,
    "swiglu",
    kernelSource(swigluWgsl, { FFN_DIM: shape.ffnDim, WORKGROUP_SIZE: shape.workgroupSize }),
    layoutEntries(["uniform", "read", "write"]),
  );
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [buffers.step, buffers.up, buffers.gate]),
    workgroups: (s) => [ceilDiv(shape.ffnDim, shape.workgroupSize), s.numTokens, 1],
  };
}
