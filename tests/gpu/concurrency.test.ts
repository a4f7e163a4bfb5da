// A model's load records its kernels concurrently (their pipelines compile side by side) while its weights are
// written. Two device-wide pieces must hold under that interleaving, checked here against a fake device whose
// error scopes answer asynchronously, as a real one does:
//   1. GpuMemory: every allocation's error names that allocation (error scopes are a stack per device);
//   2. createComputeProgram: a program requested while it compiles is compiled once; a failed one is not cached.

import { describe, expect, it } from "vitest";
import { GpuMemory, GpuOutOfMemoryError } from "../../src/gpu/memory.js";
import { createComputeProgram, KernelBuildError } from "../../src/gpu/pipelines.js";

interface FakeBuffer { label: string; size: number; destroyed: boolean; destroy(): void }

/** Error scopes as WebGPU defines them (an error goes to the innermost scope of its filter), answered after a delay. */
class FakeDevice {
  private scopes: { filter: string; error: { message: string } | null }[] = [];
  readonly failingLabels = new Set<string>();
  compiles = 0;
  failCompile = false;
  readonly queue = { writeBuffer: () => undefined };

  pushErrorScope(filter: string): void {
    this.scopes.push({ filter, error: null });
  }

  popErrorScope(): Promise<{ message: string } | null> {
    const scope = this.scopes.pop();
    if (!scope) throw new Error("popErrorScope on an empty stack");
    return new Promise((resolve) => setTimeout(() => resolve(scope.error), 5));
  }

  private report(filter: string, message: string): void {
    for (let i = this.scopes.length - 1; i >= 0; i--) {
      if (this.scopes[i]!.filter === filter) {
        this.scopes[i]!.error ??= { message };
        return;
      }
    }
    throw new Error(`uncaptured ${filter} error: ${message}`);
  }

  createBuffer({ label, size }: { label: string; size: number }): FakeBuffer {
    if (this.failingLabels.has(label)) this.report("out-of-memory", "out of memory");
    return { label, size, destroyed: false, destroy() { this.destroyed = true; } };
  }

  createBindGroupLayout(): object { return {}; }
  createPipelineLayout(): object { return {}; }
  createShaderModule(): { getCompilationInfo(): Promise<{ messages: never[] }> } {
    return { getCompilationInfo: async () => ({ messages: [] }) };
  }

  createComputePipelineAsync({ label }: { label: string }): Promise<object> {
    this.compiles++;
    const fail = this.failCompile;
    return new Promise((resolve, reject) => setTimeout(() => (fail ? reject(new Error(`${label} failed`)) : resolve({ label })), 20));
  }
}

const memoryOf = (device: FakeDevice) => new GpuMemory(device as unknown as GPUDevice, 1 << 30);

describe("GpuMemory under concurrent allocations", () => {
  it("allocate: a failure is reported by its own allocation, not by the one awaited beside it", async () => {
    const device = new FakeDevice();
    device.failingLabels.add("weights:big");
    const memory = memoryOf(device);
    const [big, small] = await Promise.allSettled([
      memory.allocate("weights", "big", 4096, 0),
      memory.allocate("weights", "small", 64, 0),
    ]);
    expect(big.status).toBe("rejected");
    expect((big as PromiseRejectedResult).reason).toBeInstanceOf(GpuOutOfMemoryError);
    expect((big as PromiseRejectedResult).reason.message).toMatch(/^big: could not allocate 4096 bytes of weights \(the GPU is out of memory\)/);
    expect(small.status).toBe("fulfilled");
    expect(memory.snapshot().weights.live).toBe(64);
    expect(memory.liveBuffers().map((b) => b.label)).toEqual(["small"]);
  });
});

describe("createComputeProgram under concurrent requests", () => {
  it("compiles a program once however many ask for it while it compiles; other code compiles on its own", async () => {
    const device = new FakeDevice();
    const gpu = device as unknown as GPUDevice;
    const [a, b, c] = await Promise.all([
      createComputeProgram(gpu, "k", "fn main() {}", []),
      createComputeProgram(gpu, "k", "fn main() {}", []),
      createComputeProgram(gpu, "k", "fn main() { }", []),
    ]);
    expect(device.compiles).toBe(2);
    expect(a).toBe(b);
    expect(c).not.toBe(a);
    expect(await createComputeProgram(gpu, "k", "fn main() {}", [])).toBe(a);
    expect(device.compiles).toBe(2);
  });

  it("a failed compile is a KernelBuildError naming the kernel, and is not cached", async () => {
    const device = new FakeDevice();
    const gpu = device as unknown as GPUDevice;
    device.failCompile = true;
    await expect(createComputeProgram(gpu, "matmul x", "fn bad() {}", [])).rejects.toThrow(KernelBuildError);
    await expect(createComputeProgram(gpu, "matmul x", "fn bad() {}", [])).rejects.toThrow(/^pipeline matmul x: matmul x failed$/);
    device.failCompile = false;
    await expect(createComputeProgram(gpu, "matmul x", "fn bad() {}", [])).resolves.toBeDefined();
    expect(device.compiles).toBe(3);
  });
});
