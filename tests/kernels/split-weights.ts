// What the tests of Q8_0/Q4_0 weight layouts share (row groups: row-group.test.ts; texels: weight-texels.test.ts):
// random quantized matrices and their values, a row's bytes as chunks are cut, a stacked gate/up pair, the error measure.

import { expect } from "vitest";
import { GgmlType, dequantize, ggmlTypeName, quantize } from "../../src/gguf/index.js";
import { Random } from "../../src/gguf/random.js";
import type { MatmulKernel } from "../../src/kernels/matmul.js";
import { weightRowBytes } from "../../src/model/weight-layout.js";
import type { MemorySnapshot } from "../../src/gpu/memory.js";
import type { BrowserSession } from "../../src/harness/session.js";
import { maxAbsDiff } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";
import { matmulInt8InputRef, matmulRef, swigluRef } from "./reference.js";

export const SPLIT_TYPES = [GgmlType.Q8_0, GgmlType.Q4_0] as const;

/** A random [rows × cols] matrix of `type`: its GGUF bytes and their values. */
export function quantizedMatrix(type: GgmlType, rows: number, cols: number, seed: number) {
  const bytes = quantize(type, new Random(seed).normals(rows * cols, 0.5));
  return { bytes, values: dequantize(type, bytes, rows * cols) };
}

/** A row's bytes on the GPU as chunks are cut (data, or scales and their padding). */
export function gpuRowBytes(type: GgmlType, cols: number): number {
  const row = weightRowBytes(type as never, cols);
  return Math.max(row.data, row.scales + 2);
}

/** Largest |gpu − cpu| over the largest |cpu|. */
export function relativeError(gpu: ArrayLike<number>, cpu: ArrayLike<number>): number {
  let scale = 0;
  for (let i = 0; i < cpu.length; i++) scale = Math.max(scale, Math.abs(cpu[i]!));
  return maxAbsDiff(gpu, cpu) / Math.max(scale, 1e-30);
}

/** Random gate and up matrices [ffn × cols] and the two stacked by row as a paired matmul reads them (row 2i gate i, 2i+1 up i). */
export function gateUpPair(type: GgmlType, ffn: number, cols: number) {
  const gate = quantizedMatrix(type, ffn, cols, 21);
  const up = quantizedMatrix(type, ffn, cols, 22);
  const rowBytes = weightRowBytes(type as never, cols).gguf;
  const stacked = new Uint8Array(2 * ffn * rowBytes);
  for (let r = 0; r < ffn; r++) {
    stacked.set(gate.bytes.subarray(r * rowBytes, (r + 1) * rowBytes), 2 * r * rowBytes);
    stacked.set(up.bytes.subarray(r * rowBytes, (r + 1) * rowBytes), (2 * r + 1) * rowBytes);
  }
  return { gate, up, stacked };
}

/** Every matmul kernel, with and without int8 inputs: each must read every weight layout. */
export const EVERY_MATMUL_KERNEL: { name: string; kernel: MatmulKernel; int8Input?: boolean }[] = [
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

/** A matmul over a split-layout matrix: kernel, format and shape (chunkRows 0: one chunk). */
export interface LayoutCase {
  type: GgmlType; kernel: MatmulKernel; int8Input?: boolean; rows: number; numTokens: number; tokenTile: number; chunkRows: number; accumulate: boolean;
}

/** Every kernel × Q8_0/Q4_0 × the shapes. */
export function layoutCases<S extends Omit<LayoutCase, "type" | "kernel" | "int8Input">>(shapes: S[]) {
  return SPLIT_TYPES.flatMap((type) => EVERY_MATMUL_KERNEL.flatMap((k) => shapes.map((s) => ({ ...k, ...s, type, typeName: ggmlTypeName(type) }))));
}

/**
 * The case's matmul (160 columns) with the matrix uploaded as `layout` asks (lab.matmul's rowGroup, texels) gives the
 * bits it gives as `baseline` asks, and those equal the CPU reference within the kernel's bound.
 */
export async function expectSameBitsAcrossLayouts(session: BrowserSession, c: LayoutCase, layout: object, baseline: object): Promise<void> {
  const cols = 160;
  const w = quantizedMatrix(c.type, c.rows, cols, 41 + c.type);
  const random = new Random(9);
  const x = random.normals(c.numTokens * cols);
  const y0 = c.accumulate ? random.normals(c.numTokens * c.rows) : undefined;
  const maxChunkBytes = c.chunkRows ? c.chunkRows * gpuRowBytes(c.type, cols) : undefined;
  const run = (upload: object) => session.call<Float32Array>("lab.matmul", {
    type: c.type, rows: c.rows, cols, weight: w.bytes, x, numTokens: c.numTokens, y0, tokenTile: c.tokenTile, kernel: c.kernel,
    int8Input: c.int8Input, maxChunkBytes, ...upload,
  });
  const result = await run(layout);
  expect(Array.from(result)).toEqual(Array.from(await run(baseline)));
  const reference = c.int8Input ? matmulInt8InputRef(w.values, c.rows, cols, x, c.numTokens, y0) : matmulRef(w.values, c.rows, cols, x, c.numTokens, y0);
  expect(relativeError(result, reference)).toBeLessThan(c.int8Input ? 1e-5 : 1e-4);
}

/** Embedding lookups from a 20-row table of `type` (chunks of `chunkRows` rows; 0: one chunk) uploaded as `layout`
 *  asks: the bits of `baseline`'s, and the table's values. */
export async function expectSameEmbeddingAcrossLayouts(session: BrowserSession, type: GgmlType, chunkRows: number, layout: object, baseline: object): Promise<void> {
  const rows = 20;
  const cols = 64;
  const table = quantizedMatrix(type, rows, cols, 11);
  const ids = [0, 19, 5, 3, 3, 17, 8, 16, 15];
  const maxChunkBytes = chunkRows ? chunkRows * gpuRowBytes(type, cols) : undefined;
  const request = { type, rows, cols, table: table.bytes, ids, maxChunkBytes };
  const result = await session.call<Float32Array>("lab.embedding", { ...request, ...layout });
  expect(Array.from(result)).toEqual(Array.from(await session.call<Float32Array>("lab.embedding", { ...request, ...baseline })));
  const expected = ids.flatMap((id) => Array.from(table.values.subarray(id * cols, (id + 1) * cols)));
  expect(relativeError(result, expected)).toBeLessThan(1e-6);
}

/** Loads a model of ../shared/models with `tuning`, decodes 24 greedy tokens after BOS keeping their logits, unloads. */
export async function greedyLogits(session: BrowserSession, file: string, tuning: object) {
  const { modelId } = await session.call<{ modelId: number }>("load", { url: session.publishFile(modelPath(file)), options: { tuning } });
  const reply = await session.call<{ output_ids: number[]; logits: Float32Array[]; memory: MemorySnapshot }>("generate", { modelId, promptIds: [1], maxTokens: 24, keepLogits: true });
  await session.call("unload", { modelId });
  return reply;
}

/** Gate and up paired (36 rows each, 96 columns) with int8 inputs, SwiftShader's decode kernel, in chunks of 8 rows,
 *  uploaded as `layout` asks: the bits of `baseline`'s, and act(gate)·up of the CPU reference. */
export async function expectSamePairedGateUpAcrossLayouts(session: BrowserSession, type: GgmlType, layout: object, baseline: object): Promise<void> {
  const ffn = 36;
  const cols = 96;
  const { gate, up, stacked } = gateUpPair(type, ffn, cols);
  const x = new Random(29).normals(cols);
  const request = {
    type, rows: 2 * ffn, cols, weight: stacked, x, numTokens: 1, tokenTile: 1, glu: "silu", gluPaired: true, int8Input: true,
    kernel: { kind: "rows", rowsPerInvocation: 4, bytesInPlace: true, int8Input: { rowsPerInvocation: 8, invocations: 8 } }, maxChunkBytes: 8 * gpuRowBytes(type, cols),
  };
  const result = await session.call<Float32Array>("lab.matmul", { ...request, ...layout });
  expect(Array.from(result)).toEqual(Array.from(await session.call<Float32Array>("lab.matmul", { ...request, ...baseline })));
  const gateRef = Float32Array.from(matmulInt8InputRef(gate.values, ffn, cols, x, 1));
  const upRef = Float32Array.from(matmulInt8InputRef(up.values, ffn, cols, x, 1));
  expect(relativeError(result, swigluRef(gateRef, upRef))).toBeLessThan(1e-4);
}
