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

export const ceilDiv = (a: number, b: number): number => Math.ceil(a / b);
