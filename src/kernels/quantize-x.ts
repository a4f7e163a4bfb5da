// Wrapper of shaders/quantize_x.wgsl: a matmul input x [n, cols] f32 → int8 blocks with one f32 scale (and the
// sum of its values) per 32 values, read by the rows matmul's int8 path (dot4I8Packed).

import quantizeXWgsl from "../../shaders/quantize_x.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";

/** Words per token of a quantized row of `cols` values: 8 data words, a scale and a sum per block, padded to vec4s. */
export function int8RowWords(cols: number): number {
  if (cols % 32 !== 0) throw new Error(`int8 activations come in blocks of 32 values; a row of ${cols} is not`);
  return Math.ceil(((cols / 32) * 10) / 4) * 4;
}

export async function quantizeXCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; x: GPUBuffer; xq: GPUBuffer },
  shape: { cols: number; xRowsAreLogitRows?: boolean; workgroupSize: number },
): Promise<KernelCall> {
  const blocks = shape.cols / 32;
  const program = await createComputeProgram(
    gpu.device,
    `quantize x ${shape.cols}${shape.xRowsAreLogitRows ? " logit rows" : ""}`,
    kernelSource(quantizeXWgsl, {
      COLS: shape.cols, X_INT8_STRIDE: int8RowWords(shape.cols), X_ROWS_ARE_LOGIT_ROWS: shape.xRowsAreLogitRows ?? false, WORKGROUP_SIZE: shape.workgroupSize,
    }),
    layoutEntries(["uniform", "read", "write"]),
  );
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [buffers.step, buffers.x, buffers.xq]),
    workgroups: (s) => [ceilDiv(blocks, shape.workgroupSize), shape.xRowsAreLogitRows ? s.numLogitRows : s.numTokens, 1],
  };
}
