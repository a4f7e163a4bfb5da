// GPU storage of the paged KV cache: for each layer, `numBlocks` blocks of `blockBytes`, laid out as
// shaders/kv_cache.wgsl reads them. Layers are packed into as few buffers as the limits allow; each
// layer is one binding range that never exceeds maxStorageBufferBindingSize.

import type { GpuContext } from "../gpu/device.js";

export type KvFormat = "f32";

export interface KvPoolShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

export interface KvPoolSettings {
  blockSize: number;
  format: KvFormat;
  /** Blocks per layer; every layer has the same block ids. */
  numBlocks: number;
}

/** Bytes of one block of one layer: K and V for blockSize tokens. */
export function kvBlockBytes(shape: KvPoolShape, blockSize: number, format: KvFormat): number {
  const valueBytes = format === "f32" ? 4 : 4;
  return 2 * blockSize * shape.kvHeads * shape.headDim * valueBytes;
}

export interface KvLayerBinding {
  buffer: GPUBuffer;
  offset: number;
  size: number;
}

export class KvPool {
  private constructor(
    readonly shape: KvPoolShape,
    readonly settings: KvPoolSettings,
    readonly blockBytes: number,
    readonly layerBindings: KvLayerBinding[],
    readonly buffers: GPUBuffer[],
    /** One block's bytes: WebGPU cannot copy within a buffer, so copy-on-write goes through here. */
    private readonly copyBounce: GPUBuffer,
  ) {}

  /** Largest block count per layer that a single binding can hold. */
  static maxBlocksPerLayer(gpu: GpuContext, shape: KvPoolShape, blockSize: number, format: KvFormat): number {
    const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    return Math.floor(limit / kvBlockBytes(shape, blockSize, format));
  }

  static async create(gpu: GpuContext, shape: KvPoolShape, settings: KvPoolSettings): Promise<KvPool> {
    const blockBytes = kvBlockBytes(shape, settings.blockSize, settings.format);
    const maxBlocks = KvPool.maxBlocksPerLayer(gpu, shape, settings.blockSize, settings.format);
    if (settings.numBlocks > maxBlocks) {
      throw new Error(
        `KV pool of ${settings.numBlocks} blocks × ${blockBytes} bytes per layer exceeds one storage binding ` +
          `(${gpu.limits.maxStorageBufferBindingSize} bytes): at most ${maxBlocks} blocks per layer on this adapter`,
      );
    }
    const align = gpu.limits.minStorageBufferOffsetAlignment;
    const layerBytes = settings.numBlocks * blockBytes;
    const layerStride = Math.ceil(layerBytes / align) * align;
    const layersPerBuffer = Math.max(1, Math.floor(gpu.limits.maxBufferSize / layerStride));
    const buffers: GPUBuffer[] = [];
    const layerBindings: KvLayerBinding[] = [];
    for (let first = 0; first < shape.layers; first += layersPerBuffer) {
      const count = Math.min(layersPerBuffer, shape.layers - first);
      const label = `KV blocks, layers ${first}..${first + count - 1}`;
      const buffer = await gpu.memory.allocate(
        "kv",
        label,
        (count - 1) * layerStride + layerBytes,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      );
      buffers.push(buffer);
      for (let i = 0; i < count; i++) layerBindings.push({ buffer, offset: i * layerStride, size: layerBytes });
    }
    const copyBounce = await gpu.memory.allocate("other", "KV block copy bounce", blockBytes, GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST);
    return new KvPool(shape, settings, blockBytes, layerBindings, buffers, copyBounce);
  }

  /** Records GPU copies of whole blocks (copy-on-write), in every layer, through the bounce buffer. */
  encodeBlockCopies(encoder: GPUCommandEncoder, copies: { src: number; dst: number }[]): void {
    for (const { src, dst } of copies) {
      for (const layer of this.layerBindings) {
        encoder.copyBufferToBuffer(layer.buffer, layer.offset + src * this.blockBytes, this.copyBounce, 0, this.blockBytes);
        encoder.copyBufferToBuffer(this.copyBounce, 0, layer.buffer, layer.offset + dst * this.blockBytes, this.blockBytes);
      }
    }
  }

  /** Bytes per token per layer (K and V, the format's scales included). */
  get bytesPerTokenPerLayer(): number {
    return this.blockBytes / this.settings.blockSize;
  }

  get totalBytes(): number {
    return this.layerBindings.reduce((n, l) => n + l.size, 0);
  }
}
