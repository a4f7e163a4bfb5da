// Uploads weights to the GPU, still quantized (layouts: src/model/weight-layout.ts). A matrix whose bytes
// exceed one storage binding (maxStorageBufferBindingSize, or a smaller cap for tests) is split into row
// chunks (whole rows, so whole GGUF blocks), each its own buffers and its own dispatch, so a 1B model loads
// on an adapter that grants only 128 MiB bindings. A model's load allocates its matrices and norm vectors first and
// fills them afterwards in file order (allocateMatrix, allocateVector, then fill), so that its kernels compile while
// the bytes are read and written. On CPU adapters (tuning.weightTexels) Q8_0/Q4_0 quants live in rgba32uint
// textures instead of buffers, the same bytes (src/model/weight-layout.ts weightTexelShape).

import type { GpuContext } from "../gpu/device.js";
import { GGML_TYPE_LAYOUT } from "../gguf/types.js";
import { gpuWeightLayout, packRows, rowsPerChunk, weightRowBytes, weightRowGroup, weightTexelShape, type GpuWeightType } from "./weight-layout.js";

export interface GpuMatrixChunk {
  rowOffset: number;
  rows: number;
  /** The values or quants, bound as w_data; for a chunk read as texels its scales buffer stands in (bound, not read). */
  data: GPUBuffer;
  /** f16 block scales (Q8_0, Q4_0); a shared 4-byte placeholder for the other layouts. */
  scales: GPUBuffer;
  /** Split-layout quants as an rgba32uint texture (tuning.weightTexels), texel t at (t mod 2^widthLog2, t >> widthLog2). */
  texels?: { texture: GPUTexture; view: GPUTextureView; widthLog2: number };
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
  /** Rows per interleaved group of a split layout's chunks (src/model/weight-layout.ts; 1: row by row). */
  rowGroup: number;
  /** Every chunk's quants are texels (GpuMatrixChunk.texels): kernels bind the textures and read them. */
  texels: boolean;
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
    /** Row group of split layouts (Q8_0, Q4_0): tuning.weightRowGroup; the other layouts keep 1. */
    readonly rowGroup = 1,
    /** Split-layout quants as textures (tuning.weightTexels), for matrices whose every chunk has a texel shape. */
    readonly texels = false,
  ) {}

  /** Rows that fit in one chunk for this type and row length. */
  rowsPerChunk(type: GpuWeightType, cols: number): number {
    return rowsPerChunk(type, cols, this.maxChunkBytes);
  }

  /** The writes allocateMatrix and allocateVector queued; fill() runs them in file order. */
  private readonly pendingFills: { fileOffset: number; write: () => Promise<void> }[] = [];

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
   * `fileOffsetOf(row)`: where a chunk starting at that row is read from, to order the fills (default 0: equal offsets
   * keep their queue order).
   */
  async allocateMatrix(
    name: string,
    type: GpuWeightType,
    rows: number,
    cols: number,
    readRows: (firstRow: number, rowCount: number) => Promise<Uint8Array>,
    filled: () => void = () => undefined,
    fileOffsetOf: (firstRow: number) => number = () => 0,
  ): Promise<GpuMatrix> {
    const chunkRows = this.rowsPerChunk(type, cols);
    const rowBytes = weightRowBytes(type, cols);
    const rowGroup = weightRowGroup(type, this.rowGroup);
    const chunkCounts: number[] = [];
    for (let rowOffset = 0; rowOffset < rows; rowOffset += chunkRows) chunkCounts.push(Math.min(chunkRows, rows - rowOffset));
    // Texels where asked for, for split layouts, when every chunk's quants fill a texture exactly (else buffers)
    const maxDimension = this.gpu.limits.maxTextureDimension2D;
    const texels = this.texels && gpuWeightLayout(type) === "split" && chunkCounts.every((count) => weightTexelShape(count * rowBytes.data, maxDimension));
    const chunks: GpuMatrixChunk[] = [];
    let bytes = 0;
    let unwritten = chunkCounts.length;
    for (let rowOffset = 0, c = 0; c < chunkCounts.length; rowOffset += chunkCounts[c++]!) {
      const count = chunkCounts[c]!;
      const label = chunks.length === 0 && count === rows ? name : `${name}[rows ${rowOffset}..${rowOffset + count}]`;
      // packRows' sizes: the data, and for split layouts one f16 scale per block, padded to whole words
      const dataBytes = count * rowBytes.data;
      const scaleBytes = gpuWeightLayout(type) === "split" ? Math.ceil((count * cols) / GGML_TYPE_LAYOUT[type].blockElements / 2) * 4 : 0;
      const shape = texels ? weightTexelShape(dataBytes, maxDimension)! : undefined;
      const texture = shape ? await this.gpu.memory.allocateTexture("weights", label, shape.width, shape.height, GPUTextureUsage.TEXTURE_BINDING | GPUTextureUsage.COPY_DST) : undefined;
      const dataBuffer = shape ? undefined : await this.gpu.memory.allocate("weights", label, dataBytes, this.usage);
      const scales = scaleBytes > 0 ? await this.gpu.memory.allocate("weights", `${label}.scales`, scaleBytes, this.usage) : await this.placeholderBuffer();
      bytes += dataBytes + scaleBytes;
      chunks.push({
        rowOffset, rows: count, data: dataBuffer ?? scales, scales,
        ...(texture && shape ? { texels: { texture, view: texture.createView(), widthLog2: shape.widthLog2 } } : {}),
      });
      this.pendingFills.push({
        fileOffset: fileOffsetOf(rowOffset),
        write: async () => {
          const packed = packRows(type, await readRows(rowOffset, count), count, cols, rowGroup);
          if (packed.data.byteLength !== dataBytes || (packed.scales?.byteLength ?? 0) !== scaleBytes) {
            throw new Error(`${label}: packed ${packed.data.byteLength} + ${packed.scales?.byteLength ?? 0} bytes, allocated ${dataBytes} + ${scaleBytes}`);
          }
          if (texture) this.gpu.memory.writeTexels(texture, packed.data);
          else this.gpu.memory.write(dataBuffer!, packed.data);
          if (packed.scales) this.gpu.memory.write(scales, packed.scales);
          if (--unwritten === 0) filled();
        },
      });
    }
    return { name, type, rows, cols, chunks, bytes, rowGroup, texels };
  }

  /** An F32 vector (norm weights) of `elements` values, allocated now and written by fill() from `read()`. */
  async allocateVector(name: string, elements: number, fileOffset: number, read: () => Promise<Float32Array>): Promise<GPUBuffer> {
    const buffer = await this.gpu.memory.allocate("weights", name, elements * 4, this.usage);
    this.pendingFills.push({
      fileOffset,
      write: async () => {
        const values = await read();
        if (values.length !== elements) throw new Error(`${name}: read ${values.length} values, allocated ${elements}`);
        this.gpu.memory.write(buffer, values);
      },
    });
    return buffer;
  }

  /** Writes everything allocateMatrix and allocateVector queued, in file order (reads then move forward through the
   *  file, as a read-ahead source wants; equal offsets keep their queue order). */
  async fill(): Promise<void> {
    const queued = this.pendingFills.splice(0).sort((a, b) => a.fileOffset - b.fileOffset);
    for (const { write } of queued) await write();
  }

  private async placeholderBuffer(): Promise<GPUBuffer> {
    this.placeholder ??= await this.gpu.memory.allocate("other", "unused scales placeholder", 4, this.usage);
    return this.placeholder;
  }
}

export function isQuantized(type: GpuWeightType): boolean {
  return gpuWeightLayout(type) !== "float";
}
