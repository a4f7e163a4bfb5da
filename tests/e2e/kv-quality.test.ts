// Quantized KV on a real model (stories260K, head_dim 8 — the hard case for small groups): quality against
// f32 KV over 800 teacher-forced positions fed as in generation, and KV bytes per token measured from the
// allocator. Acceptance: f16 top-1 ≥ 99.9%; int8 ≥ 99.5% with mean KL ≤ 1e-3 at ≤ 0.53× f16;
// int4 ≥ 90% at ≤ 0.30× f16 (default groupings: keys per channel, values per token).

import { describe, expect, it } from "vitest";
import { runKvQuality } from "../../src/cli/quality.js";
import { useBrowserSession } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";

const session = useBrowserSession();

describe("KV formats on stories260K", () => {
  it("f16, int8 and int4 meet their quality and size bounds", async () => {
    const report = await runKvQuality(session(), {
      modelPath: modelPath("stories260K.gguf"),
      formats: ["f16", "int8", "int4"],
      samples: 3,
      length: 200,
      prompts: ["Once upon a time", "Lily and Tom", "The little dog", "One day, a"],
      greedyTokens: 48,
      teacherStep: 1,
    });
    expect(report.positions).toBe(800);
    const [f16, int8, int4] = report.results;
    for (const r of report.results) {
      console.log(`${r.k}/${r.v}: ${r.kv_bytes_per_token_per_layer} B/token/layer (${r.ratio_to_f16.toFixed(4)}× f16), top-1 ${(r.top1Agreement * 100).toFixed(2)}%, ` +
        `KL mean ${r.klMean.toExponential(2)} p99 ${r.klP99.toExponential(2)}, ppl Δ ${r.perplexityDelta.toFixed(4)}, greedy ${(r.greedy.tokenAgreement * 100).toFixed(1)}%`);
    }
    expect(f16!.ratio_to_f16).toBe(1);
    expect(f16!.top1Agreement).toBeGreaterThanOrEqual(0.999);
    expect(int8!.k).toBe("int8-channel");
    expect(int8!.v).toBe("int8-token");
    expect(int8!.top1Agreement).toBeGreaterThanOrEqual(0.995);
    expect(int8!.klMean).toBeLessThanOrEqual(1e-3);
    expect(int8!.ratio_to_f16).toBeLessThanOrEqual(0.53);
    expect(int4!.top1Agreement).toBeGreaterThanOrEqual(0.9);
    expect(int4!.ratio_to_f16).toBeLessThanOrEqual(0.3);
  });
});
