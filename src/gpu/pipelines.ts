// Compiles compute pipelines once per (code, entry point) and turns WGSL compile errors into messages
// that show the failing line. Programs may be requested concurrently (a model's load compiles its decode and
// prefill kernels side by side): a request for a program already being compiled waits for that compile.

const cache = new WeakMap<GPUDevice, Map<string, Promise<ComputeProgram>>>();

/** A kernel that does not compile or validate on this adapter: a webkv bug or an adapter limit, never the user's input. */
export class KernelBuildError extends Error {
  readonly code = "kernel_build_failed";
}

export interface ComputeProgram {
  pipeline: GPUComputePipeline;
  layout: GPUBindGroupLayout;
}

/** A float constant, written as f32 even when it is a whole number (an epsilon of 1, a soft-cap of 50). */
export class F32Constant {
  constructor(readonly value: number) {}
}

export const f32 = (value: number): F32Constant => new F32Constant(value);

export type WgslConstant = number | boolean | F32Constant;

/** A float as a WGSL f32 literal: always with a decimal point or exponent, so `1` is never read as an integer. */
function f32Literal(name: string, value: number): string {
  if (!Number.isFinite(value)) throw new Error(`kernel constant ${name} is ${value}; it must be a finite number`);
  const text = Math.fround(value).toPrecision(9);
  return /[.e]/.test(text) ? text : `${text}.0`;
}

/**
 * Builds the WGSL module `constants + source`: `constants` are module-scope `const` declarations
 * (tile sizes, formats) chosen by the kernel wrapper from the adapter's limits. Plain numbers are u32
 * counts (a fraction or a negative one is an f32); floats that may be whole are passed through f32().
 */
export function wgslWithConstants(source: string, constants: Record<string, WgslConstant>): string {
  const lines = Object.entries(constants).map(([name, value]) => {
    if (typeof value === "boolean") return `const ${name}: bool = ${value};`;
    if (value instanceof F32Constant) return `const ${name}: f32 = ${f32Literal(name, value.value)};`;
    if (!Number.isInteger(value) || value < 0) return `const ${name}: f32 = ${f32Literal(name, value)};`;
    if (value > 0xffffffff) throw new KernelBuildError(`kernel constant ${name} is ${value}, beyond what a u32 holds`);
    return `const ${name}: u32 = ${value}u;`;
  });
  return `${lines.join("\n")}\n${source}`;
}

export function createComputeProgram(
  device: GPUDevice,
  label: string,
  code: string,
  layoutEntries: GPUBindGroupLayoutEntry[],
  entryPoint = "main",
): Promise<ComputeProgram> {
  let perDevice = cache.get(device);
  if (!perDevice) cache.set(device, (perDevice = new Map()));
  const key = `${label}\u0000${entryPoint}\u0000${code}`;
  const cached = perDevice.get(key);
  if (cached) return cached;
  const program = compileProgram(device, label, code, layoutEntries, entryPoint);
  perDevice.set(key, program);
  program.catch(() => perDevice.delete(key)); // a failed compile is not cached (the caller gets its error)
  return program;
}

async function compileProgram(
  device: GPUDevice,
  label: string,
  code: string,
  layoutEntries: GPUBindGroupLayoutEntry[],
  entryPoint: string,
): Promise<ComputeProgram> {
  const layout = device.createBindGroupLayout({ label, entries: layoutEntries });
  const module = device.createShaderModule({ label, code });
  const info = await module.getCompilationInfo();
  const errors = info.messages.filter((m) => m.type === "error");
  if (errors.length > 0) {
    const lines = code.split("\n");
    const detail = errors
      .map((m) => `  line ${m.lineNum}: ${m.message}\n    ${lines[m.lineNum - 1]?.trim() ?? ""}`)
      .join("\n");
    throw new KernelBuildError(`WGSL compile error in ${label}:\n${detail}`);
  }
  // The scope is pushed and popped around the synchronous calls only: error scopes are a stack per device, and
  // compiles of other programs run while this one is awaited. The pipeline's own failure rejects its promise.
  device.pushErrorScope("validation");
  const pipeline = device.createComputePipelineAsync({
    label,
    layout: device.createPipelineLayout({ bindGroupLayouts: [layout] }),
    compute: { module, entryPoint },
  });
  const scopeError = device.popErrorScope();
  const [created, error] = await Promise.all([
    pipeline.then((p) => ({ pipeline: p }), (failure: unknown) => ({ failure: failure instanceof Error ? failure.message : String(failure) })),
    scopeError,
  ]);
  if (error) throw new KernelBuildError(`pipeline ${label}: ${error.message}`);
  if ("failure" in created) throw new KernelBuildError(`pipeline ${label}: ${created.failure}`);
  return { pipeline: created.pipeline, layout };
}

/** Bind group layout entries for a list of binding kinds, in binding order ("texels": a texture_2d<u32>). */
export function layoutEntries(kinds: ("uniform" | "read" | "write" | "texels")[]): GPUBindGroupLayoutEntry[] {
  return kinds.map((kind, binding) => kind === "texels"
    ? { binding, visibility: GPUShaderStage.COMPUTE, texture: { sampleType: "uint", viewDimension: "2d" } }
    : { binding, visibility: GPUShaderStage.COMPUTE, buffer: { type: kind === "uniform" ? "uniform" : kind === "read" ? "read-only-storage" : "storage" } });
}

export type BufferBinding = GPUBuffer | { buffer: GPUBuffer; offset?: number; size?: number };

/** A texture bound to a "texels" entry of layoutEntries. */
export interface TextureBinding {
  textureView: GPUTextureView;
}

export function bindGroup(device: GPUDevice, program: ComputeProgram, label: string, resources: (BufferBinding | TextureBinding)[]): GPUBindGroup {
  return device.createBindGroup({
    label,
    layout: program.layout,
    entries: resources.map((r, binding) => ({ binding, resource: "textureView" in r ? r.textureView : "buffer" in r ? r : { buffer: r } })),
  });
}
