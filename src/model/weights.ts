// Uploads weights to the GPU, still quantized (layouts: src/model/weight-layout.ts). A matrix whose bytes
// exceed one storage binding (maxStorageBufferBindingSize, or a smaller cap for tests) is split into row
// chunks (whole rows, so whole GGUF blocks), each its own buffers and its own dispatch, so a 1B model loads
// on an adapter that grants only 128 MiB bindings. A model's load allocates its matrices first and fills them
// afterwards (allocateMatrix, then fill), so that its kernels compile while the bytes are read and written.

import type { GpuContext } from "../gpu/device.js";
import { GGML_TYPE_LAYOUT } from "../gguf/types.js";
import { gpuWeightLayout, packRows, rowsPerChunk, weightRowBytes, type GpuWeightType } from "./weight-layout.js";

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

  /** The chunks' writes that allocateMatrix queued, in order; fill() runs them. */
  private readonly pendingFills: (() => Promise<void>)[] = [];

  /** A matrix allocated and filled now. */
  async matrix(
    name: string,
    type: GpuWeightType,
    rows: number,
    cols: number,
    readRows: (firstRow: number, rowCount: number) => Promise<Uint8Array>,
  ): Promise<GpuMatrix> {
    const matrix = await this.allocateMatrix(name, type, rows, cols, readRows);
    await this.fill();
    return matrix;
  }

  /**
   * A matrix whose buffers are allocated now (their sizes follow from type, rows and cols) and written by fill():
   * its rows read by `readRows`, packed into the GPU layout, then `filled` once its last chunk is written.
   */
  async allocateMatrix(
    name: string,
    type: GpuWeightType,
    rows: number,
    cols: number,
    readRows: (firstRow: number, rowCount: number) => Promise<Uint8Array>,
    filled: () => void = () => undefined,
  ): Promise<GpuMatrix> {
    const chunkRows = this.rowsPerChunk(type, cols);
    const rowBytes = weightRowBytes(type, cols);
    const chunks: GpuMatrixChunk[] = [];
    let bytes = 0;
    for (let rowOffset = 0; rowOffset < rows; rowOffset += chunkRows) {
      const count = Math.min(chunkRows, rows - rowOffset);
      const label = chunks.length === 0 && count === rows ? name : `${name}[rows ${rowOffset}..${rowOffset + count}]`;
      // packRows' sizes: the data, and for split layouts one f16 scale per block, padded to whole words
      const dataBytes = count * rowBytes.data;
      const scaleBytes = gpuWeightLayout(type) === "split" ? Math.ceil((count * cols) / GGML_TYPE_LAYOUT[type].blockElements / 2) * 4 : 0;
      const data = await this.gpu.memory.allocate("weights", label, dataBytes, this.usage);
      const scales = scaleBytes > 0 ? await this.gpu.memory.allocate("weights", `${label}.scales`, scaleBytes, this.usage) : await this.placeholderBuffer();
      bytes += dataBytes + scaleBytes;
      chunks.push({ rowOffset, rows: count, data, scales });
      const last = rowOffset + count >= rows;
      this.pendingFills.push(async () => {
        const packed = packRows(type, await readRows(rowOffset, count), count, cols);
        if (packed.data.byteLength !== dataBytes || (packed.scales?.byteLength ?? 0) !== scaleBytes) {
          throw new Error(`${label}: packed ${packed.data.byteLength} + ${packed.scales?.byteLength ?? 0} bytes, allocated ${dataBytes} + ${scaleBytes}`);
        }
        this.gpu.memory.write(data, packed.data);
        if (packed.scales) this.gpu.memory.write(scales, packed.scales);
        if (last) filled();
      });
    }
    return { name, type, rows, cols, chunks, bytes };
  }

  /** Writes every matrix chunk allocateMatrix queued, in the order queued. */
  async fill(): Promise<void> {
    while (this.pendingFills.length > 0) await this.pendingFills.shift()!();
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
