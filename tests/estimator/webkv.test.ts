// The estimator's model of webkv's KV blocks (written from the documented layout, src/estimator/webkv.ts)
// against the runtime's own layout (src/kv/formats.ts): the same bytes for every format, grouping and shape.
// The two are written separately on purpose; this is where they are compared.

import { describe, expect, it } from "vitest";
import { webkvMatrixBytes, webkvSectionBytes } from "../../src/estimator/webkv.js";
import { webkvGpuBlock, weightFormat } from "../../src/estimator/weight-formats.js";
import { GGML_TYPE_LAYOUT, GgmlType, ggmlTypeName } from "../../src/gguf/types.js";
import { sectionLayout, type KvGrouping, type KvValueType } from "../../src/kv/formats.js";
import { GPU_WEIGHT_TYPES, packRows, rowsPerChunk, weightRowBytes, type GpuWeightType } from "../../src/model/weight-layout.js";

describe("webkv KV block bytes: estimator vs runtime layout", () => {
  const types: KvValueType[] = ["f32", "f16", "int8", "int4"];
  const groupings: KvGrouping[] = ["token", "channel"];
  const shapes = [
    { blockSize: 16, kvHeads: 4, headDim: 8 },
    { blockSize: 8, kvHeads: 1, headDim: 128 },
    { blockSize: 32, kvHeads: 8, headDim: 64 },
    { blockSize: 64, kvHeads: 3, headDim: 64 },
    { blockSize: 16, kvHeads: 6, headDim: 8 },
    { blockSize: 16, kvHeads: 2, headDim: 80 },
  ];
  for (const shape of shapes) {
    for (const type of types) {
      for (const grouping of groupings) {
        it(`${type}-${grouping}, block ${shape.blockSize}, ${shape.kvHeads}×${shape.headDim}`, () => {
          const runtime = sectionLayout(shape, { type, grouping }).words * 4;
          expect(webkvSectionBytes({ type, grouping }, shape.blockSize, shape.kvHeads, shape.headDim)).toBe(runtime);
        });
      }
    }
  }
});

// Weights: the estimator's bytes per matrix (webkvMatrixBytes, from the documented block sizes in
// weight-formats.ts) against what the uploader really allocates: src/model/weights.ts's chunks (rowsPerChunk)
// of packRows output, each buffer rounded up to 4 bytes as the allocator does (src/gpu/memory.ts).
function runtimeMatrixBytes(type: GpuWeightType, rows: number, cols: number, maxChunk: number): { bytes: number; chunks: number } {
  const chunkRows = rowsPerChunk(type, cols, maxChunk);
  const rowBytes = weightRowBytes(type, cols).gguf;
  const buffer = (n: number) => Math.max(4, Math.ceil(n / 4) * 4);
  let bytes = 0;
  let chunks = 0;
  for (let first = 0; first < rows; first += chunkRows) {
    const count = Math.min(chunkRows, rows - first);
    const packed = packRows(type, new Uint8Array(count * rowBytes), count, cols);
    bytes += buffer(packed.data.byteLength) + (packed.scales ? buffer(packed.scales.byteLength) : 0);
    chunks++;
  }
  return { bytes, chunks };
}

describe("webkv weight bytes: estimator vs runtime layout", () => {
  const shapes = [
    { rows: 1, colsBlocks: 1 },
    { rows: 37, colsBlocks: 3 },
    { rows: 512, colsBlocks: 2 },
  ];
  for (const type of GPU_WEIGHT_TYPES) {
    const blockElements = GGML_TYPE_LAYOUT[type].blockElements === 1 ? 32 : GGML_TYPE_LAYOUT[type].blockElements;
    for (const { rows, colsBlocks } of shapes) {
      const cols = colsBlocks * blockElements;
      for (const maxChunk of [Infinity, 4096, 1000, 1]) {
        it(`${ggmlTypeName(type)} ${rows}×${cols}, chunks ≤ ${maxChunk} B`, () => {
          expect(webkvMatrixBytes(type, rows, cols, maxChunk)).toEqual(runtimeMatrixBytes(type, rows, cols, maxChunk));
        });
      }
    }
  }

  it("every GPU weight type has webkv block bytes, and the estimator refuses the rest by name", () => {
    for (const type of GPU_WEIGHT_TYPES) expect(webkvGpuBlock(type).blockElements).toBe(GGML_TYPE_LAYOUT[type].blockElements);
    expect(() => webkvGpuBlock(GgmlType.IQ2_XXS)).toThrow(/IQ2_XXS.*supported: F32, F16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS, BF16/);
  });

  it("knows the GGUF bytes of the i-quant formats webkv reads", () => {
    expect(weightFormat("iq4_nl")).toMatchObject({ blockElements: 32, blockBytes: 18 });
    expect(weightFormat("iq4_xs")).toMatchObject({ blockElements: 256, blockBytes: 136 });
  });
});
