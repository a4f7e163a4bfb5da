// A recorded kernel invocation: pipeline + bind group + how many workgroups for a step's sizes.
// The model builds its list of calls once at load; each step only re-encodes them.

export interface StepSizes {
  numTokens: number;
  numSeqs: number;
  numLogitRows: number;
  /** Largest context (cached + new) of any sequence in the step. */
  maxContext: number;
  /** Most new tokens of any one sequence (1 = a pure decode step). */
  maxSeqTokens: number;
  /** Sequences with exactly one new token. */
  numDecodeSeqs: number;
  /** KV blocks that fill up in this step (quantized formats seal them). */
  numSeals: number;
}

export interface KernelCall {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: (sizes: StepSizes) => [number, number, number];
}

export function encodeCalls(pass: GPUComputePassEncoder, calls: KernelCall[], sizes: StepSizes): void {
  for (const call of calls) {
    const [x, y, z] = call.workgroups(sizes);
    if (x === 0 || y === 0 || z === 0) continue;
    pass.setPipeline(call.pipeline);
    pass.setBindGroup(0, call.bindGroup);
    pass.dispatchWorkgroups(x, y, z);
  }
}

/** Like encodeCalls, one timestamped pass per call (labels grouped by `kernelKind`). */
export function encodeCallsProfiled(
  encoder: GPUCommandEncoder,
  profiler: { beginPass(encoder: GPUCommandEncoder, label: string): GPUComputePassEncoder },
  calls: KernelCall[],
  sizes: StepSizes,
): void {
  for (const call of calls) {
    const [x, y, z] = call.workgroups(sizes);
    if (x === 0 || y === 0 || z === 0) continue;
    const pass = profiler.beginPass(encoder, kernelKind(call.label));
    pass.setPipeline(call.pipeline);
    pass.setBindGroup(0, call.bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    pass.end();
  }
}

/** "layer 3 attention flash prefill" → "attention flash prefill"; "matmul blk.0.attn_q.weight" → "matmul attn_q";
 *  "quantize blk.0.ffn_down.weight input" → "quantize ffn_down.weight input". */
export function kernelKind(label: string): string {
  const matmul = /^matmul (?:blk\.\d+\.)?([a-z_]+)/.exec(label);
  if (matmul) return `matmul ${matmul[1]}`;
  return label.replace(/^layer \d+ /, "").replace(/\bblk\.\d+\./, "");
}

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
