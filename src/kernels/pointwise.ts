// Wrapper of shaders/pointwise.wgsl: bias add, scale and soft-cap over the rows of an activation buffer.

import pointwiseWgsl from "../../shaders/pointwise.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, f32, layoutEntries, type BufferBinding } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";

export type PointwiseOp =
  | { op: "bias"; bias: GPUBuffer; offset?: number }
  | { op: "scale"; factor: number }
  | { op: "softcap"; cap: number };

const OP_CODE = { bias: 0, scale: 1, softcap: 2 } as const;

/** The bias binding, declared only when the op reads it (WebGPU rejects a layout lacking a declared binding). */
const BIAS_BINDING = "@group(0) @binding(2) var<storage, read> b: array<f32>;\nfn bias_at(i: u32) -> f32 { return b[i]; }";
const NO_BIAS = "fn bias_at(i: u32) -> f32 { return 0.0; }";

/** y[r, offset + i] op= … for i < n over the step's token rows (bias, scale) or logit rows (softcap). */
export async function pointwiseCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; y: BufferBinding },
  shape: { n: number; rowStride: number; workgroupSize: number },
  operation: PointwiseOp,
): Promise<KernelCall> {
  const factor = operation.op === "scale" ? operation.factor : operation.op === "softcap" ? operation.cap : 0;
  const withBias = operation.op === "bias";
  const program = await createComputeProgram(
    gpu.device,
    `pointwise ${operation.op}`,
    kernelSource(pointwiseWgsl.replace("// @bias-binding", withBias ? BIAS_BINDING : NO_BIAS), {
      OP: OP_CODE[operation.op],
      N: shape.n,
      ROW_STRIDE: shape.rowStride,
      OFFSET: withBias ? (operation.offset ?? 0) : 0,
      FACTOR: f32(factor),
      WORKGROUP_SIZE: shape.workgroupSize,
    }),
    layoutEntries(withBias ? ["uniform", "write", "read"] : ["uniform", "write"]),
  );
  const bindings: BufferBinding[] = withBias ? [buffers.step, buffers.y, operation.bias] : [buffers.step, buffers.y];
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, bindings),
    workgroups: (s) => [ceilDiv(shape.n, shape.workgroupSize), operation.op === "softcap" ? s.numLogitRows : s.numTokens, 1],
  };
}
