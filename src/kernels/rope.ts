// Wrapper of shaders/rope.wgsl: rotates q and k in place with this step's cos/sin table, in the normal
// (adjacent pairs) or NeoX (split halves) layout.

import ropeWgsl from "../../shaders/rope.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries, type BufferBinding } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";

export async function ropeCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; cosSin: GPUBuffer; q: BufferBinding; k: BufferBinding },
  shape: { qHeads: number; kvHeads: number; headDim: number; ropeDim: number; neox: boolean; workgroupSize: number },
): Promise<KernelCall> {
  const program = await createComputeProgram(
    gpu.device,
    `rope${shape.neox ? " neox" : ""}`,
    kernelSource(ropeWgsl, {
      Q_HEADS: shape.qHeads,
      KV_HEADS: shape.kvHeads,
      HEAD_DIM: shape.headDim,
      ROPE_DIM: shape.ropeDim,
      NEOX: shape.neox,
      WORKGROUP_SIZE: shape.workgroupSize,
    }),
    layoutEntries(["uniform", "read", "write", "write"]),
  );
  const pairsPerToken = (shape.qHeads + shape.kvHeads) * (shape.ropeDim / 2);
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [buffers.step, buffers.cosSin, buffers.q, buffers.k]),
    workgroups: (s) => [ceilDiv(pairsPerToken, shape.workgroupSize), s.numTokens, 1],
  };
}
