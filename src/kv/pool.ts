// GPU storage of the paged KV cache. For each layer one binding range holds `numBlocks` blocks laid out as
// src/kv/formats.ts describes, then (quantized formats) `tails` full-precision tails, one per live sequence.
// Layers are packed into as few buffers as the limits allow; no layer's range exceeds
// maxStorageBufferBindingSize.

import type { GpuContext } from "../gpu/device.js";
import type { KvShape } from "../kernels/kv-shape.js";
import { blockLayout, F32_KV, type KvCacheFormat } from "./formats.js";

export interface KvPoolShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

export interface KvPoolSettings {
  blockSize: number;
  format: KvCacheFormat;
  /** Blocks per layer; every layer has the same block ids. */
  numBlocks: number;
  /** Full-precision tails per layer (one per sequence alive at once); 0 when no section is quantized. */
  tails: number;
}

/** Bytes of one block of one layer: K and V of blockSize tokens, with their scales. */
export function kvBlockBytes(shape: KvPoolShape, blockSize: number, format: KvCacheFormat = F32_KV): number {
  return blockLayout({ ...shape, blockSize }, format).blockWords * 4;
}

/** Bytes of one sequence's tail in one layer (0 without quantized sections). */
export function kvTailBytes(shape: KvPoolShape, blockSize: number, format: KvCacheFormat): number {
  return blockLayout({ ...shape, blockSize }, format).tailWords * 4;
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
    readonly tailBytes: number,
    readonly layerBindings: KvLayerBinding[],
    readonly buffers: GPUBuffer[],
    /** WebGPU cannot copy within a buffer, so copy-on-write and tail copies go through here. */
    private readonly copyBounce: GPUBuffer,
  ) {}

  /** Largest block count per layer that a single binding can hold beside `tails` tails. */
  static maxBlocksPerLayer(gpu: GpuContext, shape: KvPoolShape, blockSize: number, format: KvCacheFormat, tails = 0): number {
    const limit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    return Math.floor((limit - tails * kvTailBytes(shape, blockSize, format)) / kvBlockBytes(shape, blockSize, format));
  }

  static async create(gpu: GpuContext, shape: KvPoolShape, settings: KvPoolSettings): Promise<KvPool> {
    const blockBytes = kvBlockBytes(shape, settings.blockSize, settings.format);
    const tailBytes = kvTailBytes(shape, settings.blockSize, settings.format);
    const tails = tailBytes > 0 ? settings.tails : 0;
    const maxBlocks = KvPool.maxBlocksPerLayer(gpu, shape, settings.blockSize, settings.format, tails);
    if (settings.numBlocks > maxBlocks) {
      throw new Error(
        `KV pool of ${settings.numBlocks} blocks × ${blockBytes} bytes per layer exceeds one storage binding ` +
          `(${gpu.limits.maxStorageBufferBindingSize} bytes): at most ${maxBlocks} blocks per layer on this adapter`,
      );
    }
    const align = gpu.limits.minStorageBufferOffsetAlignment;
    const layerBytes = settings.numBlocks * blockBytes + tails * tailBytes;
    const layerStride = Math.ceil(layerBytes / align) * align;
    const layersPerBuffer = Math.max(1, Math.floor(gpu.limits.maxBufferSize / layerStride));
    const buffers: GPUBuffer[] = [];
    const layerBindings: KvLayerBinding[] = [];
    for (let first = 0; first < shape.layers; first += layersPerBuffer) {
      const count = Math.min(layersPerBuffer, shape.layers - first);
      const buffer = await gpu.memory.allocate(
        "kv",
        `KV blocks, layers ${first}..${first + count - 1}`,
        (count - 1) * layerStride + layerBytes,
        GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      );
      buffers.push(buffer);
      for (let i = 0; i < count; i++) layerBindings.push({ buffer, offset: i * layerStride, size: layerBytes });
    }
    const copyBounce = await gpu.memory.allocate(
      "other", "KV copy bounce", Math.max(blockBytes, tailBytes), GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
    );
    return new KvPool(shape, { ...settings, tails }, blockBytes, tailBytes, layerBindings, buffers, copyBounce);
  }

  /** What the KV kernels are compiled with. */
  get kernelShape(): KvShape {
    return {
      blockSize: this.settings.blockSize, kvHeads: this.shape.kvHeads, headDim: this.shape.headDim,
      format: this.settings.format, numBlocks: this.settings.numBlocks,
    };
  }

  private encodeCopies(encoder: GPUCommandEncoder, copies: { src: number; dst: number }[], base: number, bytes: number): void {
    for (const { src, dst } of copies) {
      for (const layer of this.layerBindings) {
        encoder.copyBufferToBuffer(layer.buffer, layer.offset + base + src * bytes, this.copyBounce, 0, bytes);
        encoder.copyBufferToBuffer(this.copyBounce, 0, layer.buffer, layer.offset + base + dst * bytes, bytes);
      }
    }
  }

  /** Records GPU copies of whole blocks (copy-on-write), in every layer. */
  encodeBlockCopies(encoder: GPUCommandEncoder, copies: { src: number; dst: number }[]): void {
    this.encodeCopies(encoder, copies, 0, this.blockBytes);
  }

  /** Records GPU copies of tails (a fork takes a copy of its parent's newest partial block). */
  encodeTailCopies(encoder: GPUCommandEncoder, copies: { src: number; dst: number }[]): void {
    if (this.tailBytes > 0) this.encodeCopies(encoder, copies, this.settings.numBlocks * this.blockBytes, this.tailBytes);
  }

  /** Bytes per token per layer in blocks (K and V, scales included; tails excluded). */
  get bytesPerTokenPerLayer(): number {
    return this.blockBytes / this.settings.blockSize;
  }

  get totalBytes(): number {
    return this.layerBindings.reduce((n, l) => n + l.size, 0);
  }

  /** Bytes of all layers' tails. */
  get tailBytesTotal(): number {
    return this.tailBytes * this.settings.tails * this.shape.layers;
  }
}
