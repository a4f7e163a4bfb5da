// stories260K in headless Chromium through our kernels: the published greedy text exactly, and the logits
// of every position against the independent CPU reference (tests/reference/llama-cpu.ts) — for decode
// steps (split-K flash decode) and for a teacher-forced prefill (flash prefill tiles), with flash and naive
// attention and KV block sizes 8, 16 and 32. Greedy on the GPU (no logits kept) gives the same text with every
// kernel variant (matmuls 4 or 8 rows an invocation or one; norm/GLU folded or not; the GPU-shaped cooperative
// matmul on the first 64 tokens — its 1-row-a-workgroup form is checked per format in fused.test.ts; the subgroup
// and tiled matmuls, alone and with the other GPU defaults), reading
// back 4 bytes and waiting on the GPU once per decode step.

import { readFileSync } from "node:fs";
import { beforeAll, describe, expect, it } from "vitest";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";
import { loadReferenceModel } from "../reference/llama-cpu.js";

const session = useBrowserSession();
const published = JSON.parse(readFileSync(modelPath("stories260K.greedy-from-bos.json"), "utf8")) as {
  ids_including_leading_bos: number[];
  text: string;
};
const greedyIds = published.ids_including_leading_bos;
let referenceLogits: Float32Array[] = [];

beforeAll(async () => {
  const reference = await loadReferenceModel(modelPath("stories260K.gguf"));
  referenceLogits = reference.logitsForSequence(greedyIds);
});

interface GenerateReply {
  output_ids: number[];
  text: string;
  logits: Float32Array[];
}

function worstRow(gpuRows: Float32Array[], referenceRows: Float32Array[]): number {
  return Math.max(...gpuRows.map((row, i) => maxAbsDiff(row, referenceRows[i]!)));
}

describe("stories260K.gguf in Chromium", () => {
  const configurations = [
    { attention: "flash", blockSize: 16 },
    { attention: "flash", blockSize: 8 },
    { attention: "flash", blockSize: 32 },
    { attention: "naive", blockSize: 16 },
    { attention: "naive", blockSize: 8 },
    { attention: "naive", blockSize: 32 },
  ] as const;

  it.each(configurations)("greedy from BOS, $attention attention, block $blockSize: the published 256 tokens, logits within 1e-3 of the CPU reference", async ({ attention, blockSize }) => {
    const loaded = await session().call<{ modelId: number }>("load", {
      url: session().publishFile(modelPath("stories260K.gguf")),
      options: { attention, kvBlockSize: blockSize },
    });
    const reply = await session().call<GenerateReply>("generate", { modelId: loaded.modelId, promptIds: [1], maxTokens: 256, keepLogits: true });
    expect(reply.output_ids).toEqual(greedyIds.slice(1));
    expect(reply.text).toBe(published.text);
    const worst = worstRow(reply.logits, referenceLogits);
    console.log(`decode logits (${attention}, block ${blockSize}): max |Δ| vs CPU reference over 256 positions = ${worst.toExponential(2)}`);
    expect(worst).toBeLessThanOrEqual(1e-3);

    // The same 257 ids teacher-forced in prefill steps.
    const scored = await session().call<{ logits: Float32Array; top1: number[] }>("score", { modelId: loaded.modelId, ids: greedyIds, keepLogits: true });
    const rows = greedyIds.map((_, i) => scored.logits.subarray(i * 512, (i + 1) * 512));
    const worstPrefill = worstRow(rows, referenceLogits);
    console.log(`prefill logits (${attention}, block ${blockSize}): max |Δ| = ${worstPrefill.toExponential(2)}`);
    expect(worstPrefill).toBeLessThanOrEqual(1e-3);
    expect(scored.top1.slice(0, -1)).toEqual(greedyIds.slice(1));
    await session().call("unload", { modelId: loaded.modelId });
  });

  const variants = [
    { name: "the adapter's choices (SwiftShader: GLU folded, norm not, matmuls 4 rows an invocation in decode, 8 in prefill)", tuning: {} },
    { name: "8 rows an invocation in decode", tuning: { decodeMatmul: { kind: "rows", rowsPerInvocation: 8 } } },
    { name: "one row an invocation (the row kernel, prefill and decode)", tuning: { matmul: { kind: "row" }, decodeMatmul: { kind: "row" } } },
    { name: "norm and GLU folded (the GPU default)", tuning: { fuseNorm: true, fuseGlu: true } },
    { name: "unfused (rmsnorm, matmul, glu calls)", tuning: { fuseNorm: false, fuseGlu: false } },
    { name: "norm fused, GLU not", tuning: { fuseNorm: true, fuseGlu: false } },
    { name: "cooperative matmul, 4 rows a workgroup (the GPU variant)", tuning: { matmul: { kind: "cooperative", rowsPerWorkgroup: 4 }, decodeMatmul: { kind: "cooperative", rowsPerWorkgroup: 4 } } },
    { name: "subgroup matmul in decode, tiled matmul in prefill (the GPU variants)", tuning: { matmul: { kind: "tiled" }, decodeMatmul: { kind: "subgroup", lanesPerRow: 4 } } },
    { name: "the GPU defaults together (tiled + subgroup matmuls, norm and GLU folded, tiled prefill and per-head decode attention)",
      tuning: { matmul: { kind: "tiled" }, decodeMatmul: { kind: "subgroup", lanesPerRow: 4 }, fuseNorm: true, normPerInvocation: false, fuseGlu: true, prefillAttention: "tiled", decodeAttention: "per-head", decodeMinChunk: 64 } },
    { name: "decode attention per query head (the GPU variant)", tuning: { decodeAttention: "per-head", decodeMinChunk: 64 } },
    { name: "steps not chained (each waits for the last one's id)", tuning: { chainDepth: 1 } },
  ];
  it.each(variants)("greedy argmax on the GPU, $name: the published text; a decode step reads back 4 bytes, one sync", async ({ tuning }) => {
    // the cooperative kernel's barriers make SwiftShader ≈ 10–40× slower: its variants check the first 64 tokens
    const tokens = "matmul" in tuning && tuning.matmul?.kind === "cooperative" ? 64 : 256;
    const loaded = await session().call<{ modelId: number }>("load", { url: session().publishFile(modelPath("stories260K.gguf")), options: { tuning } });
    const reply = await session().call<GenerateReply>("generate", { modelId: loaded.modelId, promptIds: [1], maxTokens: tokens });
    expect(reply.output_ids).toEqual(greedyIds.slice(1, tokens + 1));
    if (tokens === 256) expect(reply.text).toBe(published.text);
    const counters = await session().call<{ steps: number; syncs: number; readbackBytes: number; chained: number; last: { dispatches: number; syncs: number; readbackBytes: number } }>(
      "counters", { modelId: loaded.modelId });
    console.log(`${JSON.stringify(tuning)}: ${counters.steps} steps (${counters.chained} chained), last decode step ${JSON.stringify(counters.last)}`);
    expect(counters.steps).toBe(tokens);
    // Every decode step after the first is queued before the previous one's id is back (unless turned off).
    expect(counters.chained).toBe("chainDepth" in tuning ? 0 : tokens - 2);
    expect(counters.syncs).toBe(tokens);
    expect(counters.readbackBytes).toBe(tokens * 4);
    expect(counters.last).toMatchObject({ syncs: 1, readbackBytes: 4 });
    await session().call("unload", { modelId: loaded.modelId });
  }, 600_000);
});
