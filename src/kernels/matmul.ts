// Wrapper of shaders/matmul.wgsl: y (+)= W·x with W quantized on the GPU. Owns one pipeline per
// (format, row length, token tile, accumulate, logit-rows) and one small uniform per weight chunk.

import matmulWgsl from "../../shaders/matmul.wgsl?raw";
import weightsWgsl from "../../shaders/weights.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries, type BufferBinding } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import type { GpuMatrix } from "../model/weights.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";

export interface MatmulOptions {
  /** Tokens per invocation: 1 for decode, the prefill tile for batches. */
  tokenTile: number;
  /** y += W·x (residual connections) instead of y = W·x. */
  accumulate: boolean;
  /** x has the step's logit rows (output head) instead of all its tokens. */
  xRowsAreLogitRows?: boolean;
  workgroupSize: number;
}

/** Calls computing y[:, 0:W.rows] (+)= W·x for every chunk of W. */
export async function matmulCalls(
  gpu: GpuContext,
  stepUniform: GPUBuffer,
  weight: GpuMatrix,
  x: GPUBuffer,
  y: BufferBinding,
  yStride: number,
  options: MatmulOptions,
): Promise<KernelCall[]> {
  const code = kernelSource(weightsWgsl + matmulWgsl, {
    WEIGHT_FORMAT: weight.type,
    COLS: weight.cols,
    TOKEN_TILE: options.tokenTile,
    ACCUMULATE: options.accumulate,
    X_ROWS_ARE_LOGIT_ROWS: options.xRowsAreLogitRows ?? false,
    WORKGROUP_SIZE: options.workgroupSize,
  });
  const program = await createComputeProgram(
    gpu.device,
    `matmul ${weight.type}x${weight.cols} tile${options.tokenTile}${options.accumulate ? "+=" : ""}`,
    code,
    layoutEntries(["uniform", "uniform", "read", "read", "read", "write"]),
  );
  const calls: KernelCall[] = [];
  for (const chunk of weight.chunks) {
    const params = await gpu.memory.allocate("other", `${weight.name} matmul params`, 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    gpu.device.queue.writeBuffer(params, 0, new Uint32Array([chunk.rows, chunk.rowOffset, yStride, 0]));
    const tokenTile = options.tokenTile;
    const logitRows = options.xRowsAreLogitRows ?? false;
    calls.push({
      label: `matmul ${weight.name}`,
      pipeline: program.pipeline,
      bindGroup: bindGroup(gpu.device, program, weight.name, [stepUniform, params, chunk.data, chunk.scales, x, y]),
      workgroups: (s) => [
        ceilDiv(chunk.rows, options.workgroupSize),
        ceilDiv(logitRows ? s.numLogitRows : s.numTokens, tokenTile),
        1,
      ],
    });
  }
  return calls;
}
