// Uploads weights to the GPU, still quantized (layouts: src/model/weight-layout.ts). A matrix whose bytes
// exceed one storage binding (maxStorageBufferBindingSize, or a smaller cap for tests) is split into row
// chunks (whole rows, so whole GGUF blocks), each its own buffers and its own dispatch, so a 1B model loads
// on an adapter that grants only 128 MiB bindings.

import type { GpuContext } from "../gpu/device.js";
import { gpuWeightLayout, packRows, rowsPerChunk, type GpuWeightType } from "./weight-layout.js";

export interface GpuMatrixChunk {
  rowOffset: number;
  rows: number;
  data: GPUBuffer;
  /** f16 block scales (Q8_0, Q4_0); a shared 4-byte placeholder for the other layouts. */
  scales: GPUBuffer;
}

/** A weight matrix W: [rows, cols] (rows = outputs, cols = inputs; GGUF dims are [cols, rows]). */
export interface GpuMatrix {
  name: string;
  type: GpuWeightType;
  rows: number;
  cols: number;
  chunks: GpuMatrixChunk[];
  /** Bytes on the GPU (data + scales, without the shared placeholder). */
  bytes: number;
}

export class WeightUploader {
  private placeholder: GPUBuffer | undefined;
  /**
   * Read when an uploader is made, not when this module is: a browser without WebGPU has no GPUBufferUsage, and
   * the library must still load there to say so (NoWebGpuError) instead of failing on a ReferenceError.
   */
  private readonly usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;

  constructor(
    private readonly gpu: GpuContext,
    /** Largest chunk in bytes: the binding limit, or less when asked (tests force splitting). */
    readonly maxChunkBytes: number,
  ) {}

  /** Rows that fit in one chunk for this type and row length. */
  rowsPerChunk(type: GpuWeightType, cols: number): number {
    return rowsPerChunk(type, cols, this.maxChunkBytes);
  }

  async matrix(
    name: string,
    type: GpuWeightType,
    rows: number,
    cols: number,
    readRows: (firstRow: number, rowCount: number) => Promise<Uint8Array>,
  ): Promise<GpuMatrix> {
    const chunkRows = this.rowsPerChunk(type, cols);
    const chunks: GpuMatrixChunk[] = [];
    let bytes = 0;
    for (let rowOffset = 0; rowOffset < rows; rowOffset += chunkRows) {
      const count = Math.min(chunkRows, rows - rowOffset);
      const packed = packRows(type, await readRows(rowOffset, count), count, cols);
      const label = chunks.length === 0 && count === rows ? name : `${name}[rows ${rowOffset}..${rowOffset + count}]`;
      const data = await this.gpu.memory.allocateWith("weights", label, packed.data, this.usage);
      let scales: GPUBuffer;
      if (packed.scales) {
        scales = await this.gpu.memory.allocateWith("weights", `${label}.scales`, packed.scales, this.usage);
        bytes += packed.scales.byteLength;
      } else {
        scales = await this.placeholderBuffer();
      }
      bytes += packed.data.byteLength;
      chunks.push({ rowOffset, rows: count, data, scales });
    }
    return { name, type, rows, cols, chunks, bytes };
  }

  /** An F32 vector (norm weights). */
  async vector(name: string, values: Float32Array): Promise<GPUBuffer> {
    return this.gpu.memory.allocateWith("weights", name, values, this.usage);
  }

  private async placeholderBuffer(): Promise<GPUBuffer> {
    this.placeholder ??= await this.gpu.memory.allocate("other", "unused scales placeholder", 4, this.usage);
    return this.placeholder;
  }
}

export function isQuantized(type: GpuWeightType): boolean {
  return gpuWeightLayout(type) !== "float";
}
