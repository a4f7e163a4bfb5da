// Wrapper of shaders/argmax.wgsl: ids[r] = argmax of logit row r (first index on ties), one workgroup per row.

import argmaxWgsl from "../../shaders/argmax.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import type { KernelCall } from "./kernel-call.js";

export async function argmaxCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; logits: GPUBuffer; ids: GPUBuffer },
  shape: { vocab: number; workgroupSize: number },
): Promise<KernelCall> {
  const program = await createComputeProgram(
    gpu.device,
    `argmax ${shape.vocab}`,
    kernelSource(argmaxWgsl, { VOCAB: shape.vocab, WORKGROUP_SIZE: shape.workgroupSize }),
    layoutEntries(["uniform", "read", "write"]),
  );
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [buffers.step, buffers.logits, buffers.ids]),
    workgroups: (s) => [s.numLogitRows, 1, 1],
  };
}
