// Wrapper of shaders/glu.wgsl: gate ← act(gate)·up, in place, with act = silu (SwiGLU) or gelu-tanh (GeGLU).

import activationWgsl from "../../shaders/activation.wgsl?raw";
import gluWgsl from "../../shaders/glu.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries } from "../gpu/pipelines.js";
import type { GatedActivation } from "../model/architecture.js";
import { kernelSource } from "./wgsl.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";

export async function gluCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; up: GPUBuffer; gate: GPUBuffer },
  shape: { ffnDim: number; activation: GatedActivation; workgroupSize: number },
): Promise<KernelCall> {
  const program = await createComputeProgram(
    gpu.device,
    `glu ${shape.activation}`,
    kernelSource(activationWgsl + gluWgsl, { FFN_DIM: shape.ffnDim, GELU_TANH: shape.activation === "gelu_tanh", WORKGROUP_SIZE: shape.workgroupSize }),
    layoutEntries(["uniform", "read", "write"]),
  );
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [buffers.step, buffers.up, buffers.gate]),
    workgroups: (s) => [ceilDiv(shape.ffnDim, shape.workgroupSize), s.numTokens, 1],
  };
}
