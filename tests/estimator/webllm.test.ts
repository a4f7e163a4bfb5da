// WebLLM's published vram_required_MB (tests/estimator/webllm-catalog.ts, from mlc-ai/web-llm src/config.ts)
// against webkv's WebLLM profile: within 1%, or within 2.5% with the reason the record says.

import { describe, expect, it } from "vitest";
import { estimateWebLlm } from "../../src/estimator/webllm.js";
import { WEBLLM_CATALOG } from "./webllm-catalog.js";

describe("WebLLM profile vs the catalog's vram_required_MB", () => {
  it("covers at least ten models", () => {
    expect(new Set(WEBLLM_CATALOG.map((r) => r.library.replace(/-q\w+?-ctx.*$/, ""))).size).toBeGreaterThanOrEqual(10);
  });
  for (const record of WEBLLM_CATALOG) {
    it(`${record.modelId} at ${record.context} tokens`, () => {
      const e = estimateWebLlm(record.model(), { context: record.context, quantization: record.quantization, chunkLogits: record.chunkLogits });
      const error = e.figures.vram_required_MB! / record.publishedMB - 1;
      if (record.explained) {
        expect(Math.abs(error)).toBeGreaterThan(0.01); // an explanation that is no longer needed must go
        expect(Math.abs(error)).toBeLessThanOrEqual(0.025);
      } else {
        expect(Math.abs(error)).toBeLessThanOrEqual(0.01);
      }
    });
  }
  it("counts the KV of the whole window in 10^6-byte MB, as the two Llama-3.1-8B records of one library show", () => {
    const [a, b] = ["Llama-3.1-8B-Instruct-q4f16_1-MLC", "Llama-3.1-8B-Instruct-q4f16_1-MLC-1k"].map((id) => WEBLLM_CATALOG.find((r) => r.modelId === id)!);
    const at = (context: number) => estimateWebLlm(a!.model(), { context, quantization: "q4f16_1" }).figures.vram_required_MB!;
    expect(at(4096) - at(1024)).toBeCloseTo(a!.publishedMB - b!.publishedMB, 1);
  });
  it("refuses a quantization WebLLM does not ship", () => {
    expect(() => estimateWebLlm(WEBLLM_CATALOG[0]!.model(), { context: 4096, quantization: "q3f16_0" })).toThrow(/no quantization "q3f16_0"/);
  });
});
