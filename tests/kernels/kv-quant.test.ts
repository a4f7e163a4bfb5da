// Quantized KV blocks (f16, int8, int4 with token or channel groups; K and V independent):
//   1. quantize → dequantize stays within each format's bound (read back from the GPU pool by a CPU decoder);
//   2. attention over the quantized cache (flash and naive) equals attention over those dequantized values
//      computed on the CPU (the step's own new tokens exact): max-abs ≤ 1e-4;
//   3. against f32 KV the output moves by no more than a per-format bound (N(0,1) keys and values).
// Includes head_dim 8 (small heads), partial last blocks (still in the full-precision tail) and sealed ones.

import { describe, expect, it } from "vitest";
import { blockLayout, formatName, hasTail, parseKvSection, type KvCacheFormat } from "../../src/kv/formats.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { attentionCase, type AttentionCase } from "./attention-cases.js";
import { decodeBlockValue, decodeTailValue, groupScale, type PoolView } from "./kv-format-reference.js";
import { attentionRef } from "./reference.js";

const session = useBrowserSession();

const format = (k: string, v = k): KvCacheFormat => ({ k: parseKvSection(k, "k"), v: parseKvSection(v, "v") });

/** Output bound against f32 KV, per format (attention of N(0,1) data; measured values are far below). */
const F32_DISTANCE_BOUND: Record<string, number> = { f16: 2e-3, int8: 3e-2, int4: 0.35 };

const FORMATS = [
  format("f16"),
  format("int8-token"),
  format("int8-channel"),
  format("int4-token"),
  format("int4-channel"),
  format("int4-channel", "int8-token"),
  format("f16", "int4-token"),
];

const SHAPES: (AttentionCase & { name: string })[] = [
  { name: "head_dim 8, 8/4 heads, block 16", qHeads: 8, kvHeads: 4, headDim: 8, blockSize: 16, window: 0, seqs: [{ contextLen: 37, numNew: 1 }, { contextLen: 5, numNew: 20 }] },
  { name: "head_dim 64, 4/2 heads, block 32", qHeads: 4, kvHeads: 2, headDim: 64, blockSize: 32, window: 0, seqs: [{ contextLen: 100, numNew: 1 }, { contextLen: 0, numNew: 45 }] },
  { name: "head_dim 128, 2/1 heads, block 8", qHeads: 2, kvHeads: 1, headDim: 128, blockSize: 8, window: 0, seqs: [{ contextLen: 60, numNew: 1 }] },
];

function decodedValues(view: PoolView, blockTable: number[], tail: number, total: number, isValue: boolean): Float32Array {
  const { kvHeads, headDim, blockSize } = view;
  const quantized = (isValue ? view.format.v.type : view.format.k.type).startsWith("int");
  const sealedEnd = Math.floor(total / blockSize) * blockSize;
  const out = new Float32Array(total * kvHeads * headDim);
  for (let p = 0; p < total; p++) {
    for (let h = 0; h < kvHeads; h++) {
      for (let d = 0; d < headDim; d++) {
        const slot = p % blockSize;
        out[(p * kvHeads + h) * headDim + d] = quantized && p >= sealedEnd
          ? decodeTailValue(view, tail, isValue, h, slot, d)
          : decodeBlockValue(view, blockTable[Math.floor(p / blockSize)]!, isValue, h, slot, d);
      }
    }
  }
  return out;
}

describe("quantized KV blocks", () => {
  for (const shape of SHAPES) {
    for (const kvFormat of FORMATS) {
      const label = `K ${formatName(kvFormat.k)} / V ${formatName(kvFormat.v)}, ${shape.name}`;
      it(label, async () => {
        const { request, expected, values } = attentionCase(shape, 77);
        const flash = await session().call<{ out: Float32Array; pool: Uint32Array; tailOffsetWords: number }>("lab.attention", {
          kind: "flash", ...request, kvFormat, returnPool: true, prefillAttention: "grouped", decodeAttention: "grouped",
        });
        const view: PoolView = { words: flash.pool, blockSize: shape.blockSize, kvHeads: shape.kvHeads, headDim: shape.headDim, format: kvFormat, tailOffsetWords: flash.tailOffsetWords };
        const layout = blockLayout(view, kvFormat);
        expect(hasTail(kvFormat)).toBe(kvFormat.k.type.startsWith("int") || kvFormat.v.type.startsWith("int"));

        // 1. Round-trip error of every cached value, within its format's bound.
        const decoded = request.seqs.map((s, i) => {
          const total = s.contextLen + s.numNew;
          return { k: decodedValues(view, s.blockTable, i, total, false), v: decodedValues(view, s.blockTable, i, total, true) };
        });
        request.seqs.forEach((s, i) => {
          for (const isValue of [false, true]) {
            const section = isValue ? layout.v : layout.k;
            const exact = isValue ? values[i]!.v : values[i]!.k;
            const got = isValue ? decoded[i]!.v : decoded[i]!.k;
            for (let index = 0; index < exact.length; index++) {
              const p = Math.floor(index / (shape.kvHeads * shape.headDim));
              const h = Math.floor(index / shape.headDim) % shape.kvHeads;
              const d = index % shape.headDim;
              const error = Math.abs(got[index]! - exact[index]!);
              let bound: number;
              if (section.type === "f32") bound = 0;
              else if (section.type === "f16") bound = Math.abs(exact[index]!) * 2 ** -11 + 2 ** -24;
              else {
                const sealed = p < Math.floor((s.contextLen + s.numNew) / shape.blockSize) * shape.blockSize;
                const scale = sealed ? groupScale(view, s.blockTable[Math.floor(p / shape.blockSize)]!, isValue, h, p % shape.blockSize, d) : 0;
                bound = section.type === "int8" ? scale / 2 + 1e-7 : scale + 1e-7; // int4: half a step, plus the zero point's rounding
              }
              if (error > bound) throw new Error(`${isValue ? "V" : "K"} seq ${i} pos ${p} head ${h} dim ${d}: |${got[index]} − ${exact[index]}| > ${bound}`);
            }
          }
        });

        // 2. The GPU reads the same values the CPU decodes: attention matches to 1e-4. A step's own new tokens are
        //    read in full precision (kv_read.wgsl), the cached context from the pool.
        const cpu = request.seqs.flatMap((s, i) => {
          const cachedValues = (all: Float32Array, exact: Float32Array) => {
            const mixed = all.slice();
            mixed.set(exact.subarray(s.contextLen * shape.kvHeads * shape.headDim), s.contextLen * shape.kvHeads * shape.headDim);
            return mixed;
          };
          const k = cachedValues(decoded[i]!.k, values[i]!.k);
          const v = cachedValues(decoded[i]!.v, values[i]!.v);
          return Array.from(attentionRef(s.q, k, v, s.contextLen, s.numNew, shape.qHeads, shape.kvHeads, shape.headDim, shape.window));
        });
        expect(maxAbsDiff(flash.out, cpu)).toBeLessThanOrEqual(1e-4);
        // The GPU kernels (prefill tiles, per-head decode) read the formats alike; checked on the smallest head (the
        // kernels of a head of 128 take seconds to compile here).
        if (shape === SHAPES[0]) {
          const tiled = await session().call<{ out: Float32Array }>("lab.attention", { kind: "flash", ...request, kvFormat, prefillAttention: "tiled", decodeAttention: "per-head" });
          expect(maxAbsDiff(tiled.out, cpu)).toBeLessThanOrEqual(1e-4);
        }
        const naive = await session().call<{ out: Float32Array }>("lab.attention", { kind: "naive", ...request, kvFormat });
        expect(maxAbsDiff(naive.out, cpu)).toBeLessThanOrEqual(1e-4);

        // 3. Distance from attention over exact (f32) keys and values.
        const worstType = [kvFormat.k.type, kvFormat.v.type].includes("int4") ? "int4" : [kvFormat.k.type, kvFormat.v.type].includes("int8") ? "int8" : "f16";
        const distance = maxAbsDiff(flash.out, expected);
        expect(distance).toBeLessThanOrEqual(F32_DISTANCE_BOUND[worstType]!);
      });
    }
  }
});

describe("format errors name the constraint", () => {
  it("rejects unknown names and impossible geometries", () => {
    expect(() => parseKvSection("int3", "k")).toThrow(/unknown KV format "int3"/);
    expect(() => parseKvSection("f16-channel", "k")).toThrow(/no quantization groups/);
    expect(() => blockLayout({ blockSize: 16, kvHeads: 1, headDim: 4 }, format("int4-channel"))).toThrow(/multiple of 8/);
    expect(() => blockLayout({ blockSize: 6, kvHeads: 4, headDim: 8 }, format("int8-token"))).toThrow(/block size that is a multiple of 4/);
  });
});
