// Row groups (tuning.weightRowGroup, SwiftShader's default 8): Q8_0/Q4_0 matrices packed in groups of rows whose
// blocks interleave (src/model/weight-layout.ts). The packing is a permutation of the blocks (checked on the CPU),
// and every kernel that reads weights — each matmul kernel, its fused epilogues, int8 inputs, the embedding — gives
// from a row-grouped matrix the bits it gives from the same matrix row by row (the same sums in the same order),
// which equal the CPU reference within the kernel's bound. Chunked cases make groups that a chunk cuts short.

import { describe, expect, it } from "vitest";
import { GGML_TYPE_LAYOUT, GgmlType, ggmlTypeName } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import { packRows, splitBlockIndex, weightRowGroup } from "../../src/model/weight-layout.js";
import { useBrowserSession } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";
import { expectSameBitsAcrossLayouts, expectSameEmbeddingAcrossLayouts, expectSamePairedGateUpAcrossLayouts, greedyLogits, layoutCases, quantizedMatrix, SPLIT_TYPES } from "./split-weights.js";

const session = useBrowserSession();

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
    const { bytes } = quantizedMatrix(type, rows, cols, 5);
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
  // one token over 37 rows (groups 8 × 4 + 5); a tile of 4 over 70 rows in chunks of 12 (each chunk 8 + 4, the last 8 + 2)
  const cases = layoutCases([
    { numTokens: 1, tokenTile: 1, rows: 37, chunkRows: 0, accumulate: false },
    { numTokens: 7, tokenTile: 4, rows: 70, chunkRows: 12, accumulate: true },
  ]);
  it.each(cases)("$typeName $name, rows=$rows n=$numTokens tile=$tokenTile chunk rows=$chunkRows", (c) =>
    expectSameBitsAcrossLayouts(session(), c, { rowGroup: 8 }, { rowGroup: 1 }));

  it.each([2, 4, 16, 64])("groups of %i rows (smaller and larger than an invocation's 8): the same bits", async (rowGroup) => {
    const cols = 96;
    const w = quantizedMatrix(GgmlType.Q8_0, 45, cols, 7);
    const x = new Random(10).normals(cols);
    const request = { type: GgmlType.Q8_0, rows: 45, cols, weight: w.bytes, x, numTokens: 1, tokenTile: 1, kernel: { kind: "rows", rowsPerInvocation: 8, bytesInPlace: true } };
    const grouped = await session().call<Float32Array>("lab.matmul", { ...request, rowGroup });
    expect(Array.from(grouped)).toEqual(Array.from(await session().call<Float32Array>("lab.matmul", request)));
  });

  it.each(SPLIT_TYPES.map((type) => ({ type, typeName: ggmlTypeName(type) })))("$typeName gate and up paired, int8 inputs, in chunks of 8 rows: the same bits", ({ type }) =>
    expectSamePairedGateUpAcrossLayouts(session(), type, { rowGroup: 8 }, {}));
});

describe("embedding lookup from a row-grouped table", () => {
  it.each(SPLIT_TYPES.flatMap((type) => [0, 3].map((chunkRows) => ({ type, chunkRows, typeName: ggmlTypeName(type) }))))(
    "$typeName, 20 rows, chunks of $chunkRows rows (0: one chunk)", ({ type, chunkRows }) =>
      expectSameEmbeddingAcrossLayouts(session(), type, chunkRows, { rowGroup: 8 }, {}),
  );
});

describe("a model packed in row groups (SwiftShader's default)", () => {
  it.each(["stories260K-q8_0.gguf", "stories260K-q4_0.gguf"])("%s: greedy decode's logits those of rows one by one, bit for bit", async (file) => {
    const grouped = await greedyLogits(session(), file, { weightRowGroup: 8 });
    const rowByRow = await greedyLogits(session(), file, { weightRowGroup: 1 });
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
