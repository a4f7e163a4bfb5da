// Row groups (tuning.weightRowGroup, SwiftShader's default 8): Q8_0/Q4_0 matrices packed in groups of rows whose
// blocks interleave (src/model/weight-layout.ts). The packing is a permutation of the blocks (checked on the CPU),
// and every kernel that reads weights — each matmul kernel, its fused epilogues, int8 inputs, the embedding — gives
// from a row-grouped matrix the bits it gives from the same matrix row by row (the same sums in the same order),
// which equal the CPU reference within the kernel's bound. Chunked cases make groups that a chunk cuts short.

import { describe, expect, it } from "vitest";
import { GGML_TYPE_LAYOUT, GgmlType, dequantize, ggmlTypeName, quantize } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import type { MatmulKernel } from "../../src/kernels/matmul.js";
import { packRows, splitBlockIndex, weightRowBytes, weightRowGroup } from "../../src/model/weight-layout.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";
import { matmulInt8InputRef, matmulRef, swigluRef } from "./reference.js";

const session = useBrowserSession();
const SPLIT_TYPES = [GgmlType.Q8_0, GgmlType.Q4_0] as const;

function matrix(type: GgmlType, rows: number, cols: number, seed: number) {
  const bytes = quantize(type, new Random(seed).normals(rows * cols, 0.5));
  return { bytes, values: dequantize(type, bytes, rows * cols) };
}

/** A row's bytes on the GPU as chunks are cut (data, or scales and their padding). */
function gpuRowBytes(type: GgmlType, cols: number): number {
  const row = weightRowBytes(type as never, cols);
  return Math.max(row.data, row.scales + 2);
}

function relativeError(gpu: ArrayLike<number>, cpu: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < cpu.length; i++) scale = Math.max(scale, Math.abs(cpu[i]!));
  return maxAbsDiff(gpu, cpu) / Math.max(scale, 1e-30);
}

describe("packing in row groups (CPU)", () => {
  it.each([{ rows: 37, group: 8 }, { rows: 16, group: 8 }, { rows: 5, group: 8 }, { rows: 70, group: 4 }, { rows: 70, group: 64 }])(
    "blocks of $rows rows in groups of $group: a permutation, block b of a group's row j at b·g + j",
    ({ rows, group }) => {
      const blocksPerRow = 3;
      const seen = new Set<number>();
      for (let row = 0; row < rows; row++) {
        for (let b = 0; b < blocksPerRow; b++) seen.add(splitBlockIndex(row, b, blocksPerRow, rows, group));
      }
      expect(seen.size).toBe(rows * blocksPerRow);
      expect(Math.max(...seen)).toBe(rows * blocksPerRow - 1);
      const lastGroup = rows - (rows % group || group);
      const lastRows = rows - lastGroup;
      expect(splitBlockIndex(lastGroup + lastRows - 1, 1, blocksPerRow, rows, group)).toBe(lastGroup * blocksPerRow + lastRows + lastRows - 1);
    },
  );

  it.each(SPLIT_TYPES.map((type) => ({ type, name: ggmlTypeName(type) })))("$name: each block's quants and scale move together", ({ type }) => {
    const rows = 13;
    const cols = 96;
    const { bytes } = matrix(type, rows, cols, 5);
    const { blockBytes } = GGML_TYPE_LAYOUT[type];
    const plain = packRows(type, bytes, rows, cols);
    const grouped = packRows(type, bytes, rows, cols, 8);
    expect(grouped.data.length).toBe(plain.data.length);
    expect(grouped.scales!.length).toBe(plain.scales!.length);
    const quant = blockBytes - 2;
    for (let row = 0; row < rows; row++) {
      for (let b = 0; b < 3; b++) {
        const from = row * 3 + b;
        const to = splitBlockIndex(row, b, 3, rows, 8);
        expect(Array.from(grouped.data.subarray(to * quant, (to + 1) * quant))).toEqual(Array.from(plain.data.subarray(from * quant, (from + 1) * quant)));
        expect(Array.from(grouped.scales!.subarray(to * 2, to * 2 + 2))).toEqual(Array.from(plain.scales!.subarray(from * 2, from * 2 + 2)));
      }
    }
  });

  it("applies to split layouts only, and only as a power of two", () => {
    expect(weightRowGroup(GgmlType.Q8_0, 8)).toBe(8);
    expect(weightRowGroup(GgmlType.F32, 8)).toBe(1);
    expect(weightRowGroup(GgmlType.Q4_K, 8)).toBe(1);
    expect(() => weightRowGroup(GgmlType.Q8_0, 6)).toThrow(/a weight row group is a power of two, got 6/);
  });
});

describe("every kernel reads row-grouped Q8_0/Q4_0 matrices: the row-by-row result bit for bit", () => {
  const kernels: { name: string; kernel: MatmulKernel; int8Input?: boolean }[] = [
    { name: "row", kernel: { kind: "row" } },
    { name: "rows 4", kernel: { kind: "rows", rowsPerInvocation: 4 } },
    { name: "rows 8", kernel: { kind: "rows", rowsPerInvocation: 8 } },
    { name: "rows 8 in place", kernel: { kind: "rows", rowsPerInvocation: 8, bytesInPlace: true } },
    { name: "rows in place, int8 inputs 8 × 8 (SwiftShader's decode)", kernel: { kind: "rows", rowsPerInvocation: 4, bytesInPlace: true, int8Input: { rowsPerInvocation: 8, invocations: 8 } }, int8Input: true },
    { name: "rows 4, int8 inputs (dot4I8Packed)", kernel: { kind: "rows", rowsPerInvocation: 4 }, int8Input: true },
    { name: "cooperative 4", kernel: { kind: "cooperative", rowsPerWorkgroup: 4 } },
    { name: "subgroup 4", kernel: { kind: "subgroup", lanesPerRow: 4 } },
    { name: "tiled", kernel: { kind: "tiled" } },
  ];
  // one token over 37 rows (groups 8 × 4 + 5); a tile of 4 over 70 rows in chunks of 12 (each chunk 8 + 4, the last 8 + 2)
  const shapes = [
    { numTokens: 1, tokenTile: 1, rows: 37, chunkRows: 0, accumulate: false },
    { numTokens: 7, tokenTile: 4, rows: 70, chunkRows: 12, accumulate: true },
  ];
  const cases = SPLIT_TYPES.flatMap((type) => kernels.flatMap((k) => shapes.map((s) => ({ ...k, ...s, type, typeName: ggmlTypeName(type) }))));
  it.each(cases)("$typeName $name, rows=$rows n=$numTokens tile=$tokenTile chunk rows=$chunkRows", async (c) => {
    const cols = 160;
    const w = matrix(c.type, c.rows, cols, 41 + c.type);
    const random = new Random(9);
    const x = random.normals(c.numTokens * cols);
    const y0 = c.accumulate ? random.normals(c.numTokens * c.rows) : undefined;
    const maxChunkBytes = c.chunkRows ? c.chunkRows * gpuRowBytes(c.type, cols) : undefined;
    const run = (rowGroup: number) => session().call<Float32Array>("lab.matmul", {
      type: c.type, rows: c.rows, cols, weight: w.bytes, x, numTokens: c.numTokens, y0, tokenTile: c.tokenTile, kernel: c.kernel,
      int8Input: c.int8Input, maxChunkBytes, rowGroup,
    });
    const grouped = await run(8);
    expect(Array.from(grouped)).toEqual(Array.from(await run(1)));
    const reference = c.int8Input ? matmulInt8InputRef(w.values, c.rows, cols, x, c.numTokens, y0) : matmulRef(w.values, c.rows, cols, x, c.numTokens, y0);
    expect(relativeError(grouped, reference)).toBeLessThan(c.int8Input ? 1e-5 : 1e-4);
  });

  it.each([2, 4, 16, 64])("groups of %i rows (smaller and larger than an invocation's 8): the same bits", async (rowGroup) => {
    const cols = 96;
    const w = matrix(GgmlType.Q8_0, 45, cols, 7);
    const x = new Random(10).normals(cols);
    const request = { type: GgmlType.Q8_0, rows: 45, cols, weight: w.bytes, x, numTokens: 1, tokenTile: 1, kernel: { kind: "rows", rowsPerInvocation: 8, bytesInPlace: true } };
    const grouped = await session().call<Float32Array>("lab.matmul", { ...request, rowGroup });
    expect(Array.from(grouped)).toEqual(Array.from(await session().call<Float32Array>("lab.matmul", request)));
  });

  it.each(SPLIT_TYPES.map((type) => ({ type, typeName: ggmlTypeName(type) })))("$typeName gate and up paired, int8 inputs, in chunks of 8 rows: the same bits", async ({ type }) => {
    const ffn = 36;
    const cols = 96;
    const gate = matrix(type, ffn, cols, 21);
    const up = matrix(type, ffn, cols, 22);
    const rowBytes = weightRowBytes(type, cols).gguf;
    const stacked = new Uint8Array(2 * ffn * rowBytes);
    for (let r = 0; r < ffn; r++) {
      stacked.set(gate.bytes.subarray(r * rowBytes, (r + 1) * rowBytes), 2 * r * rowBytes);
      stacked.set(up.bytes.subarray(r * rowBytes, (r + 1) * rowBytes), (2 * r + 1) * rowBytes);
    }
    const x = new Random(29).normals(cols);
    const request = {
      type, rows: 2 * ffn, cols, weight: stacked, x, numTokens: 1, tokenTile: 1, glu: "silu", gluPaired: true, int8Input: true,
      kernel: { kind: "rows", rowsPerInvocation: 4, bytesInPlace: true, int8Input: { rowsPerInvocation: 8, invocations: 8 } }, maxChunkBytes: 8 * gpuRowBytes(type, cols),
    };
    const grouped = await session().call<Float32Array>("lab.matmul", { ...request, rowGroup: 8 });
    expect(Array.from(grouped)).toEqual(Array.from(await session().call<Float32Array>("lab.matmul", request)));
    const gateRef = Float32Array.from(matmulInt8InputRef(gate.values, ffn, cols, x, 1));
    const upRef = Float32Array.from(matmulInt8InputRef(up.values, ffn, cols, x, 1));
    expect(relativeError(grouped, swigluRef(gateRef, upRef))).toBeLessThan(1e-4);
  });
});

describe("embedding lookup from a row-grouped table", () => {
  it.each(SPLIT_TYPES.flatMap((type) => [0, 3].map((chunkRows) => ({ type, chunkRows, typeName: ggmlTypeName(type) }))))(
    "$typeName, 20 rows, chunks of $chunkRows rows (0: one chunk)", async ({ type, chunkRows }) => {
      const rows = 20;
      const cols = 64;
      const table = matrix(type, rows, cols, 11);
      const ids = [0, 19, 5, 3, 3, 17, 8, 16, 15];
      const maxChunkBytes = chunkRows ? chunkRows * gpuRowBytes(type, cols) : undefined;
      const request = { type, rows, cols, table: table.bytes, ids, maxChunkBytes };
      const grouped = await session().call<Float32Array>("lab.embedding", { ...request, rowGroup: 8 });
      expect(Array.from(grouped)).toEqual(Array.from(await session().call<Float32Array>("lab.embedding", request)));
      const expected = ids.flatMap((id) => Array.from(table.values.subarray(id * cols, (id + 1) * cols)));
      expect(relativeError(grouped, expected)).toBeLessThan(1e-6);
    },
  );
});

describe("a model packed in row groups (SwiftShader's default)", () => {
  it.each(["stories260K-q8_0.gguf", "stories260K-q4_0.gguf"])("%s: greedy decode's logits those of rows one by one, bit for bit", async (file) => {
    const run = async (tuning: { weightRowGroup?: number }) => {
      const { modelId } = await session().call<{ modelId: number }>("load", { url: session().publishFile(modelPath(file)), options: { tuning } });
      const reply = await session().call<{ output_ids: number[]; logits: Float32Array[] }>("generate", { modelId, promptIds: [1], maxTokens: 24, keepLogits: true });
      await session().call("unload", { modelId });
      return reply;
    };
    const grouped = await run({ weightRowGroup: 8 });
    const rowByRow = await run({ weightRowGroup: 1 });
    expect(grouped.logits).toHaveLength(24);
    expect(grouped.logits[0]).toHaveLength(512);
    expect(grouped.output_ids).toEqual(rowByRow.output_ids);
    expect(grouped.logits.map((row) => Array.from(row))).toEqual(rowByRow.logits.map((row) => Array.from(row)));
  }, 120_000);

  it("refuses a row group that is not a power of two from 1 to 64, naming it", async () => {
    await expect(session().call("load", { url: session().publishFile(modelPath("stories260K-q8_0.gguf")), options: { tuning: { weightRowGroup: 3 } } }))
      .rejects.toThrow(/the weight row group must be a power of two from 1 to 64, got 3/);
  });
});
