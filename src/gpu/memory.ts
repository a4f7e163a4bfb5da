// The one allocation path for GPU buffers and textures. Every buffer (or texture: weights read as texels,
// src/model/weights.ts) the runtime creates carries a category, so the memory report is complete by construction:
// live bytes now, and the peak, per category and in total.

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

/** Bytes of one rgba32uint texel: the one texture format webkv allocates. */
export const TEXEL_BYTES = 16;

export class GpuMemory {
  private readonly tracked = new Map<GPUBuffer | GPUTexture, TrackedBuffer>();
  private readonly usage: MemorySnapshot;

  constructor(
    private readonly device: GPUDevice,
    private readonly maxBufferSize: number,
    private readonly maxTextureDimension2D = 0,
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
    const buffer = await this.created(category, label, bytes, () => this.device.createBuffer({ label: `${category}:${label}`, size: bytes, usage }));
    this.track(buffer, { category, size: bytes, label });
    return buffer;
  }

  /**
   * Creates a 2-D rgba32uint texture of width × height texels (16 bytes each, no padding: its bytes are
   * width·height·16), tracked like a buffer. Dimensions beyond the adapter's maxTextureDimension2D are refused.
   */
  async allocateTexture(category: MemoryCategory, label: string, width: number, height: number, usage: GPUTextureUsageFlags): Promise<GPUTexture> {
    if (!(width >= 1 && height >= 1 && width <= this.maxTextureDimension2D && height <= this.maxTextureDimension2D)) {
      throw new GpuOutOfMemoryError(
        `${label}: a texture of ${width} × ${height} texels exceeds this adapter's maxTextureDimension2D of ${this.maxTextureDimension2D}`,
      );
    }
    const bytes = width * height * TEXEL_BYTES;
    const texture = await this.created(category, label, bytes, () =>
      this.device.createTexture({ label: `${category}:${label}`, size: [width, height], format: "rgba32uint", usage }));
    this.track(texture, { category, size: bytes, label });
    return texture;
  }

  /** `create()` inside out-of-memory and validation scopes; a failure destroys what was made and names it. */
  private async created<T extends GPUBuffer | GPUTexture>(category: MemoryCategory, label: string, bytes: number, create: () => T): Promise<T> {
    this.device.pushErrorScope("out-of-memory");
    this.device.pushErrorScope("validation");
    const resource = create();
    // Both scopes are popped before either answer is awaited: scopes are a stack per device, and other
    // allocations (a model's load records its kernels concurrently) may push theirs meanwhile.
    const validationScope = this.device.popErrorScope();
    const memoryScope = this.device.popErrorScope();
    const [validationError, memoryError] = await Promise.all([validationScope, memoryScope]);
    if (memoryError || validationError) {
      resource.destroy();
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
    return resource;
  }

  private track(resource: GPUBuffer | GPUTexture, entry: TrackedBuffer): void {
    this.tracked.set(resource, entry);
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

  /** Writes `data` into a texture from allocateTexture, texel t at (t mod width, ⌊t / width⌋): all its texels. */
  writeTexels(texture: GPUTexture, data: ArrayBufferView): void {
    const bytes = texture.width * texture.height * TEXEL_BYTES;
    if (data.byteLength !== bytes) throw new Error(`${texture.label}: ${data.byteLength} bytes written to a texture of ${bytes}`);
    this.device.queue.writeTexture({ texture }, data, { bytesPerRow: texture.width * TEXEL_BYTES, rowsPerImage: texture.height }, [texture.width, texture.height]);
  }

  destroy(resource: GPUBuffer | GPUTexture): void {
    const entry = this.tracked.get(resource);
    if (!entry) throw new Error(`destroy() of a buffer the memory tracker does not know: ${resource.label}`);
    this.tracked.delete(resource);
    this.usage[entry.category].live -= entry.size;
    this.usage.total.live -= entry.size;
    resource.destroy();
  }

  destroyAll(): void {
    for (const resource of [...this.tracked.keys()]) this.destroy(resource);
  }

  snapshot(): MemorySnapshot {
    return structuredClone(this.usage);
  }

  /** Resets peaks to current live values (e.g. after loading, to measure a run's own peak). */
  resetPeaks(): void {
    for (const counter of Object.values(this.usage)) counter.peak = counter.live;
  }

  /** Live buffers (and textures) with their labels, largest first (for reports and debugging). */
  liveBuffers(): TrackedBuffer[] {
    return [...this.tracked.values()].sort((a, b) => b.size - a.size);
  }
}
