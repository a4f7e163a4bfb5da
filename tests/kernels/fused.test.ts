// The kernels that shorten a decode step, against their CPU references: the matmul with the RMSNorm folded
// in (reads rmsnorm(x)·g), with the GLU folded in (y = act(gate)·(W·x)), and the GPU argmax that lets a
// greedy step read back 4 bytes. A fused matmul must also equal, bit for bit, the unfused kernels it
// replaces (rmsnorm → matmul → glu), so outputs of the model do not move. And the cooperative matmul (the
// GPU-shaped variant) and the rows matmul (SwiftShader's decode kernel) for every weight format.

import { describe, expect, it } from "vitest";
import { GGML_TYPE_LAYOUT, GgmlType, dequantize, ggmlTypeName, quantize } from "../../src/gguf/index.js";
import { GPU_WEIGHT_TYPES, weightRowBytes, type GpuWeightType } from "../../src/model/weight-layout.js";
import type { MatmulKernel } from "../../src/kernels/matmul.js";
import { Random } from "../../src/gguf/random.js";
import { argmax } from "../../src/engine/sampler.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { ggmlQuantize } from "../reference/ggml-quants.js";
import { gegluRef, matmulRef, rmsnormRef, swigluRef } from "./reference.js";

const session = useBrowserSession();
const MAX_RELATIVE_ERROR = 1e-4;

function matrix(type: GgmlType, rows: number, cols: number, seed: number) {
  const values = new Random(seed).normals(rows * cols, 0.5);
  const ours = [GgmlType.F32, GgmlType.F16, GgmlType.BF16, GgmlType.Q8_0, GgmlType.Q4_0].includes(type);
  const bytes = ours ? quantize(type, values) : ggmlQuantize(type, values, rows, cols);
  return { bytes, dequantized: dequantize(type, bytes, rows * cols) };
}

function relativeError(gpu: ArrayLike<number>, cpu: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < cpu.length; i++) scale = Math.max(scale, Math.abs(cpu[i]!));
  return maxAbsDiff(gpu, cpu) / Math.max(scale, 1e-30);
}

const TYPES = [GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0, GgmlType.Q4_K];
const SHAPES = [
  { rows: 72, numTokens: 1, tokenTile: 1 },
  { rows: 40, numTokens: 6, tokenTile: 4 },
];
const cases = TYPES.flatMap((type) => SHAPES.map((s) => ({ ...s, type, name: ggmlTypeName(type), cols: type === GgmlType.Q4_K ? 256 : 96 })));

describe("matmul with the RMSNorm folded in: y = W·(rmsnorm(x)·g), the normalized tile staged in workgroup memory or not", () => {
  it.each(cases)("$name rows=$rows cols=$cols n=$numTokens tile=$tokenTile", async (c) => {
    const w = matrix(c.type, c.rows, c.cols, 5 + c.type);
    const random = new Random(9);
    const x = random.normals(c.numTokens * c.cols, 3);
    const g = random.normals(c.cols);
    const norm = { weight: g, eps: 1e-5 };
    const request = { type: c.type, rows: c.rows, cols: c.cols, weight: w.bytes, x, numTokens: c.numTokens, tokenTile: c.tokenTile, norm };
    const fused = await session().call<Float32Array>("lab.matmul", request);
    const unstaged = await session().call<Float32Array>("lab.matmul", { ...request, stageNorm: false });
    const unfused = await session().call<Float32Array>("lab.matmul", { ...request, unfused: true });
    const normed = Float32Array.from(rmsnormRef(x, g, c.cols, 1e-5, [...Array(c.numTokens).keys()]));
    expect(relativeError(fused, matmulRef(w.dequantized, c.rows, c.cols, normed, c.numTokens))).toBeLessThan(MAX_RELATIVE_ERROR);
    expect(Array.from(fused)).toEqual(Array.from(unfused));
    expect(Array.from(unstaged)).toEqual(Array.from(unfused));
  });
});

describe("matmul with the GLU folded in: y = act(gate)·(W·[rmsnorm](x))", () => {
  it.each(cases.flatMap((c) => [{ ...c, activation: "silu" as const }, { ...c, activation: "gelu_tanh" as const }]))(
    "$name $activation rows=$rows n=$numTokens tile=$tokenTile, norm folded in too",
    async (c) => {
      const w = matrix(c.type, c.rows, c.cols, 17 + c.type);
      const random = new Random(10);
      const x = random.normals(c.numTokens * c.cols);
      const g = random.normals(c.cols);
      const gate = random.normals(c.numTokens * c.rows, 3);
      const base = { type: c.type, rows: c.rows, cols: c.cols, weight: w.bytes, x, numTokens: c.numTokens, tokenTile: c.tokenTile, y0: gate, glu: c.activation };
      const plain = await session().call<Float32Array>("lab.matmul", base);
      const up = Float32Array.from(matmulRef(w.dequantized, c.rows, c.cols, x, c.numTokens));
      const ref = c.activation === "silu" ? swigluRef(gate, up) : gegluRef(gate, up);
      expect(relativeError(plain, ref)).toBeLessThan(MAX_RELATIVE_ERROR);
      expect(Array.from(plain)).toEqual(Array.from(await session().call<Float32Array>("lab.matmul", { ...base, unfused: true })));

      const norm = { weight: g, eps: 1e-6 };
      const both = await session().call<Float32Array>("lab.matmul", { ...base, norm });
      expect(Array.from(both)).toEqual(Array.from(await session().call<Float32Array>("lab.matmul", { ...base, norm, unfused: true })));
    },
  );
});

describe("argmax of each logit row on the GPU (greedy sampling)", () => {
  it.each([
    { vocab: 512, rows: 3, workgroupSize: 32 },
    { vocab: 32000, rows: 2, workgroupSize: 128 },
    { vocab: 10, rows: 4, workgroupSize: 32 }, // fewer values than lanes
    { vocab: 512, rows: 3, workgroupSize: 1 }, // SwiftShader's choice: one invocation scans the row
    { vocab: 32000, rows: 2, workgroupSize: 1 },
  ])("vocab $vocab, $rows rows, $workgroupSize lanes, with ties: the first largest, as argmax() on the CPU", async ({ vocab, rows, workgroupSize }) => {
    const random = new Random(vocab);
    const logits = random.normals(vocab * rows, 2);
    // Row 0: a tie between a late and an early index; row 1: every value equal; others random.
    const top = Math.max(...logits.subarray(0, vocab)) + 1;
    logits[vocab - 1] = top;
    logits[Math.floor(vocab / 3)] = top;
    logits.fill(-0.5, vocab, 2 * vocab);
    const gpu = await session().call<Uint32Array>("lab.argmax", { logits, vocab, rows, workgroupSize });
    const cpu = [...Array(rows).keys()].map((r) => argmax(logits.subarray(r * vocab, (r + 1) * vocab)));
    expect(Array.from(gpu)).toEqual(cpu);
    expect(cpu[0]).toBe(Math.floor(vocab / 3));
    expect(cpu[1]).toBe(0);
  });
});

/** A matmul kernel variant on one format and shape equals the CPU reference (weights and inputs from the seeds). */
async function expectKernelEqualsCpu(
  c: { type: GpuWeightType; kernel: MatmulKernel; rows: number; numTokens: number; tokenTile: number; accumulate: boolean; chunkRows: number; cols?: number },
  matrixSeed: number,
  inputSeed: number,
): Promise<void> {
  const cols = c.cols ?? (GGML_TYPE_LAYOUT[c.type].blockElements === 256 ? 512 : 160);
  const w = matrix(c.type, c.rows, cols, matrixSeed);
  const random = new Random(inputSeed);
  const x = random.normals(c.numTokens * cols);
  const y0 = c.accumulate ? random.normals(c.numTokens * c.rows) : undefined;
  const row = weightRowBytes(c.type, cols);
  const maxChunkBytes = c.chunkRows ? c.chunkRows * Math.max(row.data, row.scales + 2) : undefined;
  const gpu = await session().call<Float32Array>("lab.matmul", {
    type: c.type, rows: c.rows, cols, weight: w.bytes, x, numTokens: c.numTokens, y0, tokenTile: c.tokenTile, maxChunkBytes, kernel: c.kernel,
  });
  expect(relativeError(gpu, matmulRef(w.dequantized, c.rows, cols, x, c.numTokens, y0))).toBeLessThan(MAX_RELATIVE_ERROR);
}

describe("cooperative matmul (the GPU variant: lanes of a workgroup share each row), forced on SwiftShader", () => {
  const kernels = [{ kind: "cooperative", rowsPerWorkgroup: 4 }, { kind: "cooperative", rowsPerWorkgroup: 1 }] as const;
  const coopCases = GPU_WEIGHT_TYPES.flatMap((type) => kernels.flatMap((kernel) => [
    { type, name: ggmlTypeName(type), kernel, rows: 37, numTokens: 1, tokenTile: 1, accumulate: false, chunkRows: 0 },
    { type, name: ggmlTypeName(type), kernel, rows: 70, numTokens: 7, tokenTile: 4, accumulate: true, chunkRows: 16 },
  ]));
  it.each(coopCases)("$name $kernel.rowsPerWorkgroup rows/workgroup, rows=$rows n=$numTokens tile=$tokenTile acc=$accumulate chunk rows=$chunkRows", (c) =>
    expectKernelEqualsCpu(c, 23 + c.type, 11));

  it.each(["silu", "gelu_tanh"] as const)("Q8_0 with the norm and the %s GLU folded in", async (activation) => {
    const w = matrix(GgmlType.Q8_0, 72, 96, 29);
    const random = new Random(12);
    const x = random.normals(5 * 96, 3);
    const g = random.normals(96);
    const gate = random.normals(5 * 72, 3);
    const gpu = await session().call<Float32Array>("lab.matmul", {
      type: GgmlType.Q8_0, rows: 72, cols: 96, weight: w.bytes, x, numTokens: 5, tokenTile: 4, y0: gate, glu: activation,
      norm: { weight: g, eps: 1e-5 }, kernel: { kind: "cooperative", rowsPerWorkgroup: 4 },
    });
    const normed = Float32Array.from(rmsnormRef(x, g, 96, 1e-5, [0, 1, 2, 3, 4]));
    const up = Float32Array.from(matmulRef(w.dequantized, 72, 96, normed, 5));
    expect(relativeError(gpu, activation === "silu" ? swigluRef(gate, up) : gegluRef(gate, up))).toBeLessThan(MAX_RELATIVE_ERROR);
  });
});

describe("rows matmul (SwiftShader's: 4 or 8 rows an invocation, for one token or a tile of 4 tokens; blocks in registers)", () => {
  const shapes = [
    { kernel: { kind: "rows", rowsPerInvocation: 4 }, numTokens: 1, tokenTile: 1 },
    { kernel: { kind: "rows", rowsPerInvocation: 8 }, numTokens: 1, tokenTile: 1 },
    { kernel: { kind: "rows", rowsPerInvocation: 4 }, numTokens: 7, tokenTile: 4 }, // a partial last tile
    { kernel: { kind: "rows", rowsPerInvocation: 8 }, numTokens: 7, tokenTile: 4 },
  ] as const;
  // per format and shape one case: a partial last invocation (37 rows) for one token, accumulating over chunks of
  // 16 rows (70 rows) for the tile of 4
  const rowsCases = GPU_WEIGHT_TYPES.flatMap((type) => shapes.map((shape) => shape.tokenTile === 1
    ? { type, name: ggmlTypeName(type), ...shape, rows: 37, accumulate: false, chunkRows: 0 }
    : { type, name: ggmlTypeName(type), ...shape, rows: 70, accumulate: true, chunkRows: 16 }));
  it.each(rowsCases)("$name $kernel.rowsPerInvocation rows/invocation, n=$numTokens tile=$tokenTile, rows=$rows acc=$accumulate chunk rows=$chunkRows", (c) =>
    expectKernelEqualsCpu(c, 31 + c.type, 13));

  // Q8_0 and Q4_0 read in place (weights_block8.wgsl: unsigned bytes and nibbles where they sit, the input scaled
  // by their places, the excess taken off once a block); x with a mean far from 0 makes that excess large.
  const inPlaceCases = rowsCases.filter((c) => c.type === GgmlType.Q8_0 || c.type === GgmlType.Q4_0)
    .map((c) => ({ ...c, kernel: { ...c.kernel, bytesInPlace: true } as MatmulKernel }));
  it.each(inPlaceCases)("$name in place $kernel.rowsPerInvocation rows/invocation, n=$numTokens tile=$tokenTile, rows=$rows acc=$accumulate", (c) =>
    expectKernelEqualsCpu(c, 51 + c.type, 17));
  it.each(inPlaceCases.filter((c) => c.tokenTile === 1))("$name in place, input of mean 3 (a large offset to take off)", async (c) => {
    const cols = 160;
    const w = matrix(c.type, c.rows, cols, 61 + c.type);
    const x = Float32Array.from(new Random(19).normals(cols), (v) => v + 3);
    const gpu = await session().call<Float32Array>("lab.matmul", { type: c.type, rows: c.rows, cols, weight: w.bytes, x, numTokens: 1, tokenTile: 1, kernel: c.kernel });
    expect(relativeError(gpu, matmulRef(w.dequantized, c.rows, cols, x, 1))).toBeLessThan(MAX_RELATIVE_ERROR);
  });

  // Float rows that are not whole 32-value blocks (stories260K's ffn_down, 172 wide): 5 blocks, then 3 vec4s.
  const raggedCases = [GgmlType.F32, GgmlType.F16, GgmlType.BF16].flatMap((type) => rowsCases.filter((c) => c.type === type).map((c) => ({ ...c, cols: 172 })));
  it.each(raggedCases)("$name $kernel.rowsPerInvocation rows/invocation, n=$numTokens tile=$tokenTile, cols=$cols (not whole blocks)", (c) =>
    expectKernelEqualsCpu(c, 41 + c.type, 15));

  // The norm's 1/rms from the workgroup's lanes (x staged normed in workgroup memory, or not), or by every invocation
  // alone (SwiftShader's choice: no barrier).
  const fusedCases = [
    { stageNorm: true, perInvocation: false }, { stageNorm: false, perInvocation: false }, { stageNorm: false, perInvocation: true },
  ].flatMap((norm) => [{ ...norm, numTokens: 1, tokenTile: 1 }, { ...norm, numTokens: 6, tokenTile: 4 }]);
  it.each(fusedCases)("Q4_0 with the norm (staged: $stageNorm, per invocation: $perInvocation) and the SwiGLU folded in, n=$numTokens tile=$tokenTile", (c) =>
    expectFusedEqualsCpu({ kind: "rows", rowsPerInvocation: 4 }, c.perInvocation, c.numTokens, c.tokenTile, c.stageNorm));

  it("falls back to the row kernel where it does not apply: a tile of 8 tokens", async () => {
    for (const c of [{ cols: 96, numTokens: 11, tokenTile: 8 }]) {
      const w = matrix(GgmlType.F32, 20, c.cols, 41);
      const x = new Random(15).normals(c.numTokens * c.cols);
      const gpu = await session().call<Float32Array>("lab.matmul", {
        type: GgmlType.F32, rows: 20, cols: c.cols, weight: w.bytes, x, numTokens: c.numTokens, tokenTile: c.tokenTile, kernel: { kind: "rows", rowsPerInvocation: 4 },
      });
      expect(relativeError(gpu, matmulRef(w.dequantized, 20, c.cols, x, c.numTokens))).toBeLessThan(MAX_RELATIVE_ERROR);
    }
  });
});

describe("subgroup matmul (GPU-shaped: a row's lanes in one subgroup, summed by shuffles), forced on SwiftShader", () => {
  // SwiftShader's subgroups have 4 lanes: 4, 2 and 1 lanes a row all fit one.
  const kernels = [{ kind: "subgroup", lanesPerRow: 4 }, { kind: "subgroup", lanesPerRow: 2 }, { kind: "subgroup", lanesPerRow: 1 }] as const;
  const subgroupCases = GPU_WEIGHT_TYPES.flatMap((type) => [
    { type, name: ggmlTypeName(type), kernel: kernels[0], rows: 37, numTokens: 1, tokenTile: 1, accumulate: false, chunkRows: 0 },
    { type, name: ggmlTypeName(type), kernel: kernels[0], rows: 70, numTokens: 7, tokenTile: 4, accumulate: true, chunkRows: 16 },
  ]);
  it.each(subgroupCases)("$name $kernel.lanesPerRow lanes/row, rows=$rows n=$numTokens tile=$tokenTile acc=$accumulate chunk rows=$chunkRows", (c) =>
    expectKernelEqualsCpu(c, 53 + c.type, 17));

  it.each(kernels.flatMap((kernel) => ([GgmlType.F32, GgmlType.Q8_0] as GpuWeightType[]).map((type) => ({ kernel, type, name: ggmlTypeName(type) }))))(
    "$name $kernel.lanesPerRow lanes/row, 1 token, 45 rows", (c) =>
      expectKernelEqualsCpu({ ...c, rows: 45, numTokens: 1, tokenTile: 1, accumulate: false, chunkRows: 0 }, 59, 19));

  it.each(([GgmlType.F32, GgmlType.F16, GgmlType.BF16] as GpuWeightType[]).map((type) => ({ type, name: ggmlTypeName(type) })))(
    "$name rows of 172 values (5 blocks, then a tail of 3 vec4s shared by the lanes)", (c) =>
      expectKernelEqualsCpu({ ...c, kernel: kernels[0], rows: 37, numTokens: 3, tokenTile: 1, accumulate: false, chunkRows: 0, cols: 172 }, 61, 21));

  it.each([{ perInvocation: false }, { perInvocation: true }])("Q4_0 with the norm (per invocation: $perInvocation) and the SwiGLU folded in", (c) =>
    expectFusedEqualsCpu({ kind: "subgroup", lanesPerRow: 4 }, c.perInvocation, 6, 4));
});

describe("tiled matmul (GPU-shaped prefill: 64 rows × 16 tokens staged in workgroup memory), forced on SwiftShader", () => {
  const kernel = { kind: "tiled" } as const;
  // per format: row tiles 64 + 16 (a chunk of 80 rows) + 50, token tiles 16 + 4 — full and partial tiles on both
  // axes — accumulating; writing (not accumulating) is checked by the ragged and folded cases below
  const tiledCases = GPU_WEIGHT_TYPES.map((type) =>
    ({ type, name: ggmlTypeName(type), kernel, rows: 130, numTokens: 20, tokenTile: 4, accumulate: true, chunkRows: 80 }));
  it.each(tiledCases)("$name rows=$rows n=$numTokens acc=$accumulate chunk rows=$chunkRows", (c) => expectKernelEqualsCpu(c, 67 + c.type, 23));

  it.each(([GgmlType.F32, GgmlType.F16, GgmlType.BF16] as GpuWeightType[]).map((type) => ({ type, name: ggmlTypeName(type) })))(
    "$name rows of 172 values (5 blocks, then a step of 3 vec4s and zeros)", (c) =>
      expectKernelEqualsCpu({ ...c, kernel, rows: 70, numTokens: 18, tokenTile: 4, accumulate: false, chunkRows: 0, cols: 172 }, 71, 25));

  it.each([{ perInvocation: false }, { perInvocation: true }])("Q4_0 with the norm (per invocation: $perInvocation) and the SwiGLU folded in", (c) =>
    expectFusedEqualsCpu(kernel, c.perInvocation, 19, 4));

  it("the one-token decode step too (the tile's other 15 tokens repeat it and are not stored)", () =>
    expectKernelEqualsCpu({ type: GgmlType.Q8_0, kernel, rows: 70, numTokens: 1, tokenTile: 1, accumulate: true, chunkRows: 0 }, 73, 27));
});

/** A kernel with the norm and the SwiGLU folded in (Q4_0, 45 rows × 96) equals rmsnorm → matmul → SwiGLU on the CPU. */
async function expectFusedEqualsCpu(kernel: MatmulKernel, perInvocation: boolean, numTokens: number, tokenTile: number, stageNorm?: boolean): Promise<void> {
  const w = matrix(GgmlType.Q4_0, 45, 96, 37);
  const random = new Random(14);
  const x = random.normals(numTokens * 96, 3);
  const g = random.normals(96);
  const gate = random.normals(numTokens * 45, 3);
  const gpu = await session().call<Float32Array>("lab.matmul", {
    type: GgmlType.Q4_0, rows: 45, cols: 96, weight: w.bytes, x, numTokens, tokenTile, y0: gate, glu: "silu",
    norm: { weight: g, eps: 1e-5, perInvocation }, stageNorm, kernel,
  });
  const tokens = [...Array(numTokens).keys()];
  const up = Float32Array.from(matmulRef(w.dequantized, 45, 96, Float32Array.from(rmsnormRef(x, g, 96, 1e-5, tokens)), numTokens));
  expect(relativeError(gpu, swigluRef(gate, up))).toBeLessThan(MAX_RELATIVE_ERROR);
}
