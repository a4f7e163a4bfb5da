// Flash attention (FlashAttention-2 prefill tiles, split-K decode — per head and grouped — + merge) and the naive baseline against
// the CPU reference, over the paged cache with shuffled physical blocks: head dims 8…128, query/KV head
// ratios 1…8, contexts up to 4096 (odd ones included), block sizes 8…64, ragged multi-sequence batches,
// with and without a sliding window. f32 KV: max-abs error ≤ 1e-4.

import { describe, expect, it } from "vitest";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { attentionCase, type AttentionCase } from "./attention-cases.js";

const session = useBrowserSession();

const heads = (ratio: number, kvHeads = 1) => ({ qHeads: ratio * kvHeads, kvHeads });

const CASES: (AttentionCase & { name: string; decodeMinChunk?: number; decodeMaxChunks?: number })[] = [
  { name: "length 1", ...heads(1), headDim: 8, blockSize: 8, window: 0, seqs: [{ contextLen: 0, numNew: 1 }] },
  { name: "ragged prefill + decode", ...heads(2, 2), headDim: 8, blockSize: 16, window: 0, seqs: [{ contextLen: 0, numNew: 37 }, { contextLen: 100, numNew: 1 }, { contextLen: 5, numNew: 17 }] },
  { name: "window 50", ...heads(4), headDim: 32, blockSize: 32, window: 50, seqs: [{ contextLen: 200, numNew: 33 }, { contextLen: 0, numNew: 64 }] },
  { name: "decode at 4096", ...heads(8), headDim: 64, blockSize: 64, window: 0, seqs: [{ contextLen: 4095, numNew: 1 }] },
  { name: "prefill 129, d128", ...heads(1, 2), headDim: 128, blockSize: 16, window: 0, seqs: [{ contextLen: 0, numNew: 129 }] },
  { name: "ragged decode, window 300", ...heads(2), headDim: 128, blockSize: 8, window: 300, seqs: [{ contextLen: 1000, numNew: 1 }, { contextLen: 4000, numNew: 1 }, { contextLen: 3, numNew: 1 }] },
  { name: "chunk after a long cache", ...heads(1), headDim: 32, blockSize: 64, window: 0, seqs: [{ contextLen: 3001, numNew: 95 }] },
  { name: "prefill 1023", ...heads(4), headDim: 64, blockSize: 16, window: 0, seqs: [{ contextLen: 0, numNew: 1023 }] },
  { name: "ratio 8, tail of 4096", ...heads(8), headDim: 8, blockSize: 32, window: 0, seqs: [{ contextLen: 4090, numNew: 6 }] },
  { name: "d16, window 7", ...heads(2, 4), headDim: 16, blockSize: 8, window: 7, seqs: [{ contextLen: 30, numNew: 4 }, { contextLen: 0, numNew: 12 }] },
  { name: "decode, 1 chunk", ...heads(4), headDim: 32, blockSize: 16, window: 0, decodeMaxChunks: 1, seqs: [{ contextLen: 777, numNew: 1 }, { contextLen: 12, numNew: 1 }] },
  { name: "decode, 3 chunks", ...heads(2), headDim: 64, blockSize: 32, window: 0, decodeMinChunk: 683, seqs: [{ contextLen: 2047, numNew: 1 }] },
  { name: "decode, 64 chunks, windowed", ...heads(1), headDim: 128, blockSize: 64, window: 1000, decodeMinChunk: 64, decodeMaxChunks: 64, seqs: [{ contextLen: 4095, numNew: 1 }, { contextLen: 64, numNew: 1 }] },
  { name: "mixed step: decode and prefill sequences", ...heads(8, 2), headDim: 32, blockSize: 8, window: 0, seqs: [{ contextLen: 90, numNew: 1 }, { contextLen: 0, numNew: 1 }, { contextLen: 17, numNew: 5 }] },
];

describe("attention: flash and naive vs the CPU reference", () => {
  it.each(CASES.map((c, i) => ({ ...c, i })))("$name ($qHeads/$kvHeads heads, d=$headDim, block $blockSize, window $window)", async (c) => {
    const { request, expected } = attentionCase(c, 1000 + c.i);
    // Flash runs twice, so that each variant is checked: the grouped kernels (an invocation per KV head, dims in
    // registers: SwiftShader's), then the GPU kernels — prefill tiles with K/V staged in workgroup memory or read by
    // each row (in turn), split-K decode per query head.
    const { out: flash } = await session().call<{ out: Float32Array }>("lab.attention", {
      kind: "flash", ...request, decodeMinChunk: c.decodeMinChunk, decodeMaxChunks: c.decodeMaxChunks, prefillAttention: "grouped", decodeAttention: "grouped",
    });
    expect(maxAbsDiff(flash, expected)).toBeLessThanOrEqual(1e-4);
    const { out: flashOther } = await session().call<{ out: Float32Array }>("lab.attention", {
      kind: "flash", ...request, decodeMinChunk: c.decodeMinChunk, decodeMaxChunks: c.decodeMaxChunks, sharedTiles: c.i % 2 === 0,
      prefillAttention: "tiled", decodeAttention: "per-head",
    });
    expect(maxAbsDiff(flashOther, expected)).toBeLessThanOrEqual(1e-4);
    expect(maxAbsDiff(flashOther, flash)).toBeLessThanOrEqual(1e-5);
    const contextMax = Math.max(...c.seqs.map((s) => s.contextLen + s.numNew));
    if (contextMax * c.seqs.reduce((n, s) => n + s.numNew, 0) * c.qHeads * 4 < 64 << 20) {
      const { out: naive } = await session().call<{ out: Float32Array }>("lab.attention", { kind: "naive", ...request });
      expect(maxAbsDiff(naive, expected)).toBeLessThanOrEqual(1e-4);
      expect(maxAbsDiff(naive, flash)).toBeLessThanOrEqual(1e-4);
    }
  });
});
