// Wrapper of shaders/embedding.wgsl: x[t] = table[id(t)], table quantized or not, possibly in row chunks.

import embeddingWgsl from "../../shaders/embedding.wgsl?raw";
import int8Wgsl from "../../shaders/int8.wgsl?raw";
import weightsWgsl from "../../shaders/weights.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import { texelWidthLog2, weightQuantsLibrary, weightTexelsBinding } from "./weight-quants.js";
import { weightBlockValues } from "../model/weight-layout.js";
import type { GpuMatrix } from "../model/weights.js";
import { ceilDiv, type KernelCall } from "./kernel-call.js";

export async function embeddingCalls(
  gpu: GpuContext,
  stepUniform: GPUBuffer,
  table: GpuMatrix,
  tokens: GPUBuffer,
  x: GPUBuffer,
  workgroupSize: number,
): Promise<KernelCall[]> {
  const quants = weightQuantsLibrary(table, 6);
  const constants = { WEIGHT_FORMAT: table.type, COLS: table.cols, WORKGROUP_SIZE: workgroupSize, ROW_GROUP: table.rowGroup, ...quants.constants };
  const program = await createComputeProgram(
    gpu.device,
    `embedding ${table.type}x${table.cols}${table.rowGroup > 1 ? ` rowgroup${table.rowGroup}` : ""}${table.texels ? " texels" : ""}`,
    kernelSource(int8Wgsl + weightsWgsl + quants.wgsl + embeddingWgsl, constants),
    layoutEntries(["uniform", "uniform", "read", "read", "read", "write", ...(table.texels ? ["texels" as const] : [])]),
  );
  const blocksPerRow = table.cols / weightBlockValues(table.type, table.cols);
  const calls: KernelCall[] = [];
  for (const chunk of table.chunks) {
    const params = await gpu.memory.allocate("other", `${table.name} chunk params`, 16, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    gpu.device.queue.writeBuffer(params, 0, new Uint32Array([chunk.rows, chunk.rowOffset, texelWidthLog2(chunk), 0]));
    calls.push({
      label: `embedding ${table.name}`,
      pipeline: program.pipeline,
      bindGroup: bindGroup(gpu.device, program, table.name, [stepUniform, params, chunk.data, chunk.scales, tokens, x, ...weightTexelsBinding(table, chunk)]),
      workgroups: (s) => [ceilDiv(blocksPerRow, workgroupSize), s.numTokens, 1],
    });
  }
  return calls;
}
