// Stacked matmuls, against their CPU references: q, k and v as one matmul over [Wq; Wk; Wv] whose epilogue routes
// each row into the step's q, k or v rows (every matmul kernel; weights split into chunks too), and gate and up as
// one matmul over [Wgate; Wup] interleaved by row with the GLU in its epilogue (the rows kernel, SwiftShader's).
// Each must also equal, bit for bit, the separate matmuls it replaces, so the model's outputs do not move.

import { describe, expect, it } from "vitest";
import { GgmlType, dequantize, ggmlTypeName, quantize } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import type { MatmulKernel } from "../../src/kernels/matmul.js";
import { weightRowBytes } from "../../src/model/weight-layout.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { ggmlQuantize } from "../reference/ggml-quants.js";
import { gegluRef, matmulInt8InputRef, matmulRef, swigluRef } from "./reference.js";
import { gateUpPair } from "./split-weights.js";

const session = useBrowserSession();
const MAX_RELATIVE_ERROR = 1e-4;

function relativeError(gpu: ArrayLike<number>, cpu: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < cpu.length; i++) scale = Math.max(scale, Math.abs(cpu[i]!));
  return maxAbsDiff(gpu, cpu) / Math.max(scale, 1e-30);
}

/** A matrix of `type` [rows, cols] from a seed: its GGUF bytes (K-quants by ggml's own quantizer) and the values they hold. */
function matrix(type: GgmlType, rows: number, cols: number, seed: number) {
  const values = new Random(seed).normals(rows * cols, 0.5);
  const bytes = type === GgmlType.Q4_K ? ggmlQuantize(type, values, rows, cols) : quantize(type, values);
  return { bytes, values: dequantize(type, bytes, rows * cols) };
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

describe("q, k and v as one matmul: rows routed into the step's q, k and v rows", () => {
  const qRows = 24;
  const kvRows = 8;
  // k rows at 0, v rows at 64, q rows at 200 (as the model lays them out: k, v, q, each at an aligned offset); the
  // gaps must stay zero
  const layout = { qRows, kvRows, kBase: 0, vBase: 64, qBase: 200, yFloats: 200 + 7 * qRows };
  const kernels: { name: string; kernel: MatmulKernel }[] = [
    { name: "row", kernel: { kind: "row" } },
    { name: "rows 4", kernel: { kind: "rows", rowsPerInvocation: 4 } },
    { name: "rows 8", kernel: { kind: "rows", rowsPerInvocation: 8 } },
    { name: "cooperative 4", kernel: { kind: "cooperative", rowsPerWorkgroup: 4 } },
    { name: "subgroup 4", kernel: { kind: "subgroup", lanesPerRow: 4 } },
    { name: "tiled", kernel: { kind: "tiled" } },
  ];
  const shapes = [
    { numTokens: 1, tokenTile: 1, chunkRows: 0 },
    { numTokens: 7, tokenTile: 4, chunkRows: 12 }, // chunks of 12 rows: boundaries inside q and between k and v
  ];
  const cases = [GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_K].flatMap((type) =>
    kernels.flatMap((k) => shapes.map((s) => ({ ...k, ...s, type, typeName: ggmlTypeName(type) }))),
  );
  it.each(cases)("$typeName, $name kernel, n=$numTokens tile=$tokenTile, chunk rows=$chunkRows", async (c) => {
    const cols = c.type === GgmlType.Q4_K ? 256 : 96;
    const parts = [matrix(c.type, qRows, cols, 3), matrix(c.type, kvRows, cols, 4), matrix(c.type, kvRows, cols, 5)];
    const rows = qRows + 2 * kvRows;
    const x = new Random(8).normals(c.numTokens * cols);
    const rowBytes = weightRowBytes(c.type as never, cols).gguf;
    const common = { type: c.type, cols, x, numTokens: c.numTokens, tokenTile: c.tokenTile, kernel: c.kernel, maxChunkBytes: c.chunkRows ? c.chunkRows * rowBytes : undefined };
    const gpu = await session().call<Float32Array>("lab.matmul", { ...common, rows, weight: concat(parts.map((p) => p.bytes)), qkv: layout });
    expect(gpu.length).toBe(layout.yFloats);

    const expected = new Float64Array(layout.yFloats);
    const bases = [layout.qBase, layout.kBase, layout.vBase];
    const separate: Float32Array[] = [];
    for (const [i, part] of parts.entries()) {
      const partRows = i === 0 ? qRows : kvRows;
      expected.set(matmulRef(part.values, partRows, cols, x, c.numTokens), bases[i]);
      separate.push(await session().call<Float32Array>("lab.matmul", { ...common, rows: partRows, weight: part.bytes }));
    }
    expect(relativeError(gpu, expected)).toBeLessThan(MAX_RELATIVE_ERROR);
    for (const [i, rowsOut] of separate.entries()) {
      expect(Array.from(gpu.subarray(bases[i], bases[i]! + rowsOut.length))).toEqual(Array.from(rowsOut));
    }
  });

  it("refuses a matrix of the wrong row count, and a GLU", async () => {
    const w = matrix(GgmlType.F32, 30, 32, 1);
    const request = { type: GgmlType.F32, rows: 30, cols: 32, weight: w.bytes, x: new Float32Array(32), numTokens: 1, tokenTile: 1, qkv: layout };
    await expect(session().call("lab.matmul", request)).rejects.toThrow(/fused q\/k\/v matmul stores 24 \+ 2 × 8 rows; got 30 rows/);
  });
});

describe("gate and up as one matmul: [Wgate; Wup] interleaved by row, y = act(gate)·up in the epilogue (rows kernel)", () => {
  const ffn = 36; // 72 stacked rows: a partial last invocation with 8 rows an invocation
  const shapes = [
    { kernel: { kind: "rows", rowsPerInvocation: 4 } as MatmulKernel, numTokens: 1, tokenTile: 1 },
    { kernel: { kind: "rows", rowsPerInvocation: 8 } as MatmulKernel, numTokens: 1, tokenTile: 1 },
    { kernel: { kind: "rows", rowsPerInvocation: 4 } as MatmulKernel, numTokens: 7, tokenTile: 4 }, // a partial last tile
    { kernel: { kind: "rows", rowsPerInvocation: 8 } as MatmulKernel, numTokens: 7, tokenTile: 4 },
  ];
  const cases = [GgmlType.F32, GgmlType.Q8_0, GgmlType.Q4_0].flatMap((type) =>
    (["silu", "gelu_tanh"] as const).flatMap((activation) =>
      shapes.map((s) => ({ ...s, type, activation, typeName: ggmlTypeName(type), perInvocation: (s.kernel as { rowsPerInvocation: number }).rowsPerInvocation })),
    ),
  );
  it.each(cases)("$typeName $activation, $perInvocation rows/invocation, n=$numTokens tile=$tokenTile", async (c) => {
    const cols = 96;
    const { gate, up, stacked } = gateUpPair(c.type, ffn, cols);
    const x = new Random(23).normals(c.numTokens * cols);
    const common = { type: c.type, cols, x, numTokens: c.numTokens, tokenTile: c.tokenTile, kernel: c.kernel };
    const gpu = await session().call<Float32Array>("lab.matmul", { ...common, rows: 2 * ffn, weight: stacked, glu: c.activation, gluPaired: true });
    expect(gpu.length).toBe(c.numTokens * ffn);
    const gateRef = Float32Array.from(matmulRef(gate.values, ffn, cols, x, c.numTokens));
    const upRef = Float32Array.from(matmulRef(up.values, ffn, cols, x, c.numTokens));
    expect(relativeError(gpu, c.activation === "silu" ? swigluRef(gateRef, upRef) : gegluRef(gateRef, upRef))).toBeLessThan(MAX_RELATIVE_ERROR);
    // the two matmuls it replaces: gate, then up with the GLU folded in
    const gateGpu = await session().call<Float32Array>("lab.matmul", { ...common, rows: ffn, weight: gate.bytes });
    const separate = await session().call<Float32Array>("lab.matmul", { ...common, rows: ffn, weight: up.bytes, y0: gateGpu, glu: c.activation });
    expect(Array.from(gpu)).toEqual(Array.from(separate));
  });

  it.each([GgmlType.Q8_0, GgmlType.Q4_0].map((type) => ({ type, typeName: ggmlTypeName(type) })))("$typeName with int8 inputs (decode): the int8-input products through the GLU", async ({ type }) => {
    const cols = 96;
    const { gate, up, stacked } = gateUpPair(type, ffn, cols);
    const x = new Random(29).normals(cols);
    const common = { type, cols, x, numTokens: 1, tokenTile: 1, kernel: { kind: "rows", rowsPerInvocation: 4 }, int8Input: true };
    const gpu = await session().call<Float32Array>("lab.matmul", { ...common, rows: 2 * ffn, weight: stacked, glu: "silu", gluPaired: true });
    const gateRef = Float32Array.from(matmulInt8InputRef(gate.values, ffn, cols, x, 1));
    const upRef = Float32Array.from(matmulInt8InputRef(up.values, ffn, cols, x, 1));
    expect(relativeError(gpu, swigluRef(gateRef, upRef))).toBeLessThan(1e-4);
  });

  it("weights in chunks of 8 rows: the same result; chunks that would cut an invocation's row pairs are refused", async () => {
    const cols = 96;
    const { stacked } = gateUpPair(GgmlType.Q8_0, ffn, cols);
    const x = new Random(31).normals(cols);
    const rowBytes = weightRowBytes(GgmlType.Q8_0, cols).gguf;
    const request = { type: GgmlType.Q8_0, rows: 2 * ffn, cols, weight: stacked, x, numTokens: 1, tokenTile: 1, kernel: { kind: "rows", rowsPerInvocation: 4 }, glu: "silu", gluPaired: true };
    const whole = await session().call<Float32Array>("lab.matmul", request);
    expect(Array.from(await session().call<Float32Array>("lab.matmul", { ...request, maxChunkBytes: 8 * rowBytes }))).toEqual(Array.from(whole));
    await expect(session().call("lab.matmul", { ...request, maxChunkBytes: 6 * rowBytes })).rejects.toThrow(/chunks that start at a multiple of 4 rows .* got chunks at rows 0, 6, 12/);
  });

  it("refuses kernels that do not store a row pair in one invocation, and a pairing without a GLU", async () => {
    const cols = 32;
    const { stacked } = gateUpPair(GgmlType.F32, ffn, cols);
    const request = { type: GgmlType.F32, rows: 2 * ffn, cols, weight: stacked, x: new Float32Array(cols), numTokens: 1, tokenTile: 1, glu: "silu", gluPaired: true };
    await expect(session().call("lab.matmul", { ...request, kernel: { kind: "row" } })).rejects.toThrow(/paired gate\/up matmul needs a GLU and the rows kernel .* got the row kernel/);
    await expect(session().call("lab.matmul", { ...request, kernel: { kind: "cooperative", rowsPerWorkgroup: 4 } })).rejects.toThrow(/got the cooperative kernel/);
    await expect(session().call("lab.matmul", { ...request, kernel: { kind: "rows", rowsPerInvocation: 4 }, glu: undefined })).rejects.toThrow(/without a GLU/);
  });
});
