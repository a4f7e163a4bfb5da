// Wrapper of shaders/attention_naive.wgsl: scores → softmax → P·V through an N×N scratch buffer.
// The scratch is the point of this baseline: it grows as tokens × heads × context, and when that no
// longer fits one binding the kernel refuses, by name, instead of truncating.

import attentionNaiveWgsl from "../../shaders/attention_naive.wgsl?raw";
import type { GpuContext } from "../gpu/device.js";
import { bindGroup, createComputeProgram, layoutEntries } from "../gpu/pipelines.js";
import { kernelSource } from "./wgsl.js";
import { ceilDiv, type KernelCall, type StepSizes } from "./kernel-call.js";
import { attentionBindings, attentionConstants, kvReadLibrary, type AttentionBuffers, type AttentionShape } from "./kv-shape.js";

export class AttentionScratchTooLargeError extends Error {
  readonly code = "attention_scratch_too_large";
}

/** Bytes of the naive score matrix for a step. */
export function naiveScratchBytes(sizes: StepSizes, qHeads: number): number {
  return sizes.numTokens * qHeads * sizes.maxContext * 4;
}

export interface NaiveAttentionBuffers extends AttentionBuffers {
  scores: GPUBuffer;
}

export async function naiveAttentionCalls(
  gpu: GpuContext,
  label: string,
  buffers: NaiveAttentionBuffers,
  shape: AttentionShape & { workgroupSize: number; reduceWorkgroupSize: number },
): Promise<KernelCall[]> {
  const source = kvReadLibrary() + attentionNaiveWgsl;
  const layout = layoutEntries(["uniform", "read", "read", "read", "read", "read", "write", "write", "read"]);
  const compile = (entry: string, workgroupSize: number) =>
    createComputeProgram(
      gpu.device,
      `attention naive ${entry}`,
      kernelSource(source, { ...attentionConstants(shape), V_NEW_OFFSET: buffers.kvNew.vOffsetBytes / 16, WORKGROUP_SIZE: workgroupSize }),
      layout,
      entry,
    );
  const [scores, softmax, pv] = await Promise.all([
    compile("scores_main", shape.workgroupSize),
    compile("softmax_main", shape.reduceWorkgroupSize),
    compile("pv_main", shape.workgroupSize),
  ]);
  const bound = (program: typeof scores) =>
    bindGroup(gpu.device, program, label, attentionBindings(buffers, buffers.scores));
  const headVec4 = shape.headDim / 4;
  return [
    {
      label: `${label} scores`,
      pipeline: scores.pipeline,
      bindGroup: bound(scores),
      workgroups: (s) => [ceilDiv(s.maxContext, shape.workgroupSize), shape.qHeads, s.numTokens],
    },
    {
      label: `${label} softmax`,
      pipeline: softmax.pipeline,
      bindGroup: bound(softmax),
      workgroups: (s) => [shape.qHeads, s.numTokens, 1],
    },
    {
      label: `${label} pv`,
      pipeline: pv.pipeline,
      bindGroup: bound(pv),
      workgroups: (s) => [ceilDiv(shape.qHeads * headVec4, shape.workgroupSize), s.numTokens, 1],
    },
  ];
}
