// Wrapper of shaders/rmsnorm.wgsl: one workgroup per row, or (perRow) one invocation per row with the same sums in
// the same order; optionally gathers the step's logit rows, or adds the normalized rows into y.

import rmsnormWgsl from "../../shaders/rmsnorm.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, f32, layoutEntries } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";

export async function rmsnormCall(
  gpu: GpuContext,
  label: string,
  buffers: { step: GPUBuffer; x: GPUBuffer; weight: GPUBuffer; logitRows: GPUBuffer; y: GPUBuffer },
  /** lanes: the partial sums that make 1/rms (the workgroup of `main`; `main_per_row` does them in turn). */
  shape: { dim: number; eps: number; gatherLogitRows: boolean; accumulate?: boolean; lanes: number; perRow?: boolean },
): Promise<KernelCall> {
  const perRow = shape.perRow ?? false;
  const program = await createComputeProgram(
    gpu.device,
    `rmsnorm ${shape.dim}${shape.gatherLogitRows ? " gather" : ""}${shape.accumulate ? " +=" : ""}${perRow ? " per row" : ""}`,
    kernelSource(rmsnormWgsl, {
      DIM: shape.dim,
      EPS: f32(shape.eps),
      GATHER_LOGIT_ROWS: shape.gatherLogitRows,
      ACCUMULATE: shape.accumulate ?? false,
      LANES: shape.lanes,
      ROWS_PER_WORKGROUP: ROWS_PER_WORKGROUP,
    }),
    layoutEntries(["uniform", "read", "read", "read", "write"]),
    perRow ? "main_per_row" : "main",
  );
  return {
    label,
    pipeline: program.pipeline,
    bindGroup: bindGroup(gpu.device, program, label, [buffers.step, buffers.x, buffers.weight, buffers.logitRows, buffers.y]),
    workgroups: (s) => {
      const rows = shape.gatherLogitRows ? s.numLogitRows : s.numTokens;
      return [perRow ? ceilDiv(rows, ROWS_PER_WORKGROUP) : rows, 1, 1];
    },
  };
}

/** Rows (invocations) per workgroup of `main_per_row`: a decode step's one row takes one small workgroup. */
const ROWS_PER_WORKGROUP = 4;
