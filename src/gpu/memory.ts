// The one allocation path for GPU buffers. Every buffer the runtime creates carries a category, so the
// memory report is complete by construction: live bytes now, and the peak, per category and in total.

export const MEMORY_CATEGORIES = ["weights", "kv", "activations", "attention_scratch", "staging", "other"] as const;
export type MemoryCategory = (typeof MEMORY_CATEGORIES)[number];

export interface CategoryUsage {
  live: number;
  peak: number;
}

export type MemorySnapshot = Record<MemoryCategory | "total", CategoryUsage>;

export class GpuOutOfMemoryError extends Error {
  readonly code = "gpu_out_of_memory";
  constructor(message: string) {
    super(message);
    this.name = "GpuOutOfMemoryError";
  }
}

export interface TrackedBuffer {
  category: MemoryCategory;
  size: number;
  label: string;
}

export class GpuMemory {
  private readonly tracked = new Map<GPUBuffer, TrackedBuffer>();
  private readonly usage: MemorySnapshot;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
  ) {
    const zero = (): CategoryUsage => ({ live: 0, peak: 0 });
    this.usage = Object.fromEntries([...MEMORY_CATEGORIES, "total"].map((c) => [c, zero()])) as MemorySnapshot;
  }

  /**
   * Creates a buffer of `size` bytes (rounded up to 4). Out-of-memory and validation failures become
   * errors that name the buffer and its size.
   */
  async allocate(category: MemoryCategory, label: string, size: number, usage: GPUBufferUsageFlags): Promise<GPUBuffer> {
    const bytes = Math.max(4, Math.ceil(size / 4) * 4);
    if (bytes > this.maxBufferSize) {
      throw new GpuOutOfMemoryError(
        `${label}: a buffer of ${bytes} bytes exceeds this adapter's maxBufferSize of ${this.maxBufferSize} bytes`,
      );
    }
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    const buffer = this.device.createBuffer({ label: `${category}:${label}`, size: bytes, usage });
    // Both scopes are popped before either answer is awaited: scopes are a stack per device, and other
    // allocations (a model's load records its kernels concurrently) may push theirs meanwhile.
    const validationScope = this.device.popErrorScope();
    const memoryScope = this.device.popErrorScope();
    const [validationError, memoryError] = await Promise.all([validationScope, memoryScope]);
    if (memoryError || validationError) {
      buffer.destroy();
      const reason = memoryError ? "the GPU is out of memory" : validationError!.message;
      const advice: Partial<Record<MemoryCategory, string>> = {
        kv: "lower --kv-budget or --kv-blocks, or --context",
        weights: "this model does not fit this GPU: pick a smaller model or quantization",
        activations: "lower --max-step-tokens",
        attention_scratch: "use --attention flash",
      };
      throw new GpuOutOfMemoryError(
        `${label}: could not allocate ${bytes} bytes of ${category} (${reason}); ` +
          `${this.usage.total.live} bytes are already allocated${advice[category] ? `; ${advice[category]}` : ""}`,
      );
    }
    this.track(buffer, { category, size: bytes, label });
    return buffer;
  }

  private track(buffer: GPUBuffer, entry: TrackedBuffer): void {
    this.tracked.set(buffer, entry);
    for (const key of [entry.category, "total"] as const) {
      const counter = this.usage[key];
      counter.live += entry.size;
      counter.peak = Math.max(counter.peak, counter.live);
    }
  }

  /** A buffer holding `data` (one queue write; the GPU process's own staging is transient). */
  async allocateWith(category: MemoryCategory, label: string, data: ArrayBufferView, usage: GPUBufferUsageFlags): Promise<GPUBuffer> {
    const buffer = await this.allocate(category, label, data.byteLength, usage | GPUBufferUsage.COPY_DST);
    this.write(buffer, data);
    return buffer;
  }

  /** Writes `data` at the start of `buffer` (zero-padded to whole words, as buffers are sized). */
  write(buffer: GPUBuffer, data: ArrayBufferView): void {
    if (data.byteLength % 4 === 0) {
      this.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    } else {
      const padded = new Uint8Array(Math.ceil(data.byteLength / 4) * 4);
      padded.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      this.device.queue.writeBuffer(buffer, 0, padded);
    }
  }

  destroy(buffer: GPUBuffer): void {
    const entry = this.tracked.get(buffer);
    if (!entry) throw new Error(`destroy() of a buffer the memory tracker does not know: ${buffer.label}`);
    this.tracked.delete(buffer);
    this.usage[entry.category].live -= entry.size;
    this.usage.total.live -= entry.size;
    buffer.destroy();
  }

  destroyAll(): void {
    for (const buffer of [...this.tracked.keys()]) this.destroy(buffer);
  }

  snapshot(): MemorySnapshot {
    return structuredClone(this.usage);
  }

  /** Resets peaks to current live values (e.g. after loading, to measure a run's own peak). */
  resetPeaks(): void {
    for (const counter of Object.values(this.usage)) counter.peak = counter.live;
  }

  /** Live buffers with their labels, largest first (for reports and debugging). */
  liveBuffers(): TrackedBuffer[] {
    return [...this.tracked.values()].sort((a, b) => b.size - a.size);
  }
}
