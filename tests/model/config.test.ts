// A model's configuration from its GGUF header, for every architecture: what each description reads, and
// every way a file can be wrong for its architecture — each a named GgufError whose message names the key
// or tensor at fault (an unknown architecture names itself and lists what runs).

import { describe, expect, it } from "vitest";
import { GgufError, type GgufErrorCode } from "../../src/gguf/errors.js";
import { readGgufHeader } from "../../src/gguf/reader.js";
import { bytesSource } from "../../src/gguf/source.js";
import { syntheticLlama, type SyntheticLlamaShape } from "../../src/gguf/synthetic.js";
import { GgmlType } from "../../src/gguf/types.js";
import { encodeGgufBytes, meta, type GgufWriteTensor, type GgufWriteValue } from "../../src/gguf/writer.js";
import { modelConfigFromGguf, yarnCorrDims } from "../../src/model/config.js";

const base = { dim: 64, layers: 2, heads: 4, kvHeads: 2, ffn: 128, vocab: 300, contextLength: 256 } as const;

async function headerOf(
  shape: SyntheticLlamaShape,
  edit: (model: { metadata: Record<string, GgufWriteValue>; tensors: GgufWriteTensor[] }) => void = () => undefined,
) {
  const model = syntheticLlama(shape, { seed: 1, weightType: GgmlType.F32 });
  edit(model);
  return readGgufHeader(bytesSource(encodeGgufBytes(model.metadata, model.tensors), "test"));
}

async function expectGgufError(promise: Promise<unknown>, code: GgufErrorCode, message: RegExp) {
  const error = await promise.then(() => undefined, (e: unknown) => e);
  expect(error).toBeInstanceOf(GgufError);
  expect((error as GgufError).code).toBe(code);
  expect((error as GgufError).message).toMatch(message);
}

/** Replaces a tensor by a zero F32 tensor of other dims. */
const reshaped = (name: string, dims: number[]) => (m: { tensors: GgufWriteTensor[] }) => {
  const at = m.tensors.findIndex((t) => t.name === name);
  m.tensors[at] = { name, dims, type: GgmlType.F32, values: () => new Float32Array(dims[0]! * dims[1]!) };
};

const withoutTensor = (name: string) => (m: { tensors: GgufWriteTensor[] }) => {
  m.tensors = m.tensors.filter((t) => t.name !== name);
};

describe("what each architecture reads", () => {
  it("llama: normal RoPE, SiLU, no biases, every layer global", async () => {
    const c = modelConfigFromGguf(await headerOf(base));
    expect([c.architecture, c.description.rope, c.description.activation, c.biases, c.layerWindows]).toEqual(["llama", "normal", "silu", [], [0, 0]]);
    expect(c.attentionScale).toBeCloseTo(1 / 4);
  });

  it("qwen2: NeoX and its three required biases", async () => {
    const c = modelConfigFromGguf(await headerOf({ ...base, architecture: "qwen2" }));
    expect([c.description.rope, c.biases]).toEqual(["neox", ["attn_q.bias", "attn_k.bias", "attn_v.bias"]]);
  });

  it("gemma2: √dim embedding, soft-caps 50/30, window on even layers, tied head", async () => {
    const c = modelConfigFromGguf(await headerOf({ ...base, layers: 4, architecture: "gemma2", slidingWindow: 16 }));
    expect([c.embeddingScale, c.attentionSoftcap, c.finalSoftcap, c.layerWindows, c.tiedOutput]).toEqual([Math.fround(8), 50, 30, [16, 0, 16, 0], true]);
  });

  it("gemma3: 5 local layers to 1 global, the local ones on RoPE base 10000", async () => {
    const c = modelConfigFromGguf(await headerOf({ ...base, layers: 7, architecture: "gemma3", slidingWindow: 16, ropeBase: 1e6 }));
    expect(c.layerWindows).toEqual([16, 16, 16, 16, 16, 0, 16]);
    expect(c.layerRope).toEqual([1, 1, 1, 1, 1, 0, 1]);
    expect(c.ropes.map((r) => r.freqBase)).toEqual([1e6, 10000]);
  });

  it("a sliding window longer than the context is bounded by it (the fuzzer's u32-overflowing window)", async () => {
    const c = modelConfigFromGguf(await headerOf({ ...base, architecture: "gemma2", slidingWindow: 4294967295 }));
    expect(c.layerWindows).toEqual([256, 0]);
  });

  it("phi3: partial rotary, LongRoPE short factors for a context up to the original, long ones beyond", async () => {
    const shape = { ...base, architecture: "phi3", ropeDim: 8, ropeScaling: { type: "longrope", originalContext: 128, attnFactor: 1.19 } } as const;
    const short = modelConfigFromGguf(await headerOf(shape), { contextSize: 128 });
    const long = modelConfigFromGguf(await headerOf(shape));
    expect([short.ropeDim, short.ropes[0]!.factorsTensor, long.ropes[0]!.factorsTensor]).toEqual([8, "rope_factors_short.weight", "rope_factors_long.weight"]);
    expect(short.ropes[0]!.attnFactor).toBeCloseTo(1.19, 6);
  });

  it("YaRN: ggml's correction dims (64 dims, original context 4096, base 10000, β 32/1)", async () => {
    // 64·ln(4096 / (32·2π)) / (2·ln 10000) = 10.47 → floor 10;  64·ln(4096 / (1·2π)) / (2·ln 10000) = 22.5 → ceil 23
    expect(yarnCorrDims(64, 4096, 10000, 32, 1)).toEqual([10, 23]);
    const c = modelConfigFromGguf(await headerOf({ ...base, architecture: "qwen2", ropeScaling: { type: "yarn", factor: 4, originalContext: 64 } }));
    expect([c.ropes[0]!.extFactor, c.ropes[0]!.freqScale]).toEqual([1, 0.25]);
  });
});

describe("files wrong for their architecture are named errors", () => {
  it("an unknown architecture names itself and lists what runs", async () => {
    await expectGgufError(
      headerOf(base, (m) => (m.metadata["general.architecture"] = meta.str("mamba9"))).then((h) => modelConfigFromGguf(h)),
      "unsupported_architecture", /"mamba9" is not supported \(webkv runs: gemma2, gemma3, llama, mistral, phi3, qwen2, qwen3\)/,
    );
  });

  const cases: { name: string; shape: SyntheticLlamaShape; edit: Parameters<typeof headerOf>[1]; code: GgufErrorCode; message: RegExp }[] = [
    { name: "qwen2 without a k bias in one layer", shape: { ...base, architecture: "qwen2" }, edit: withoutTensor("blk.1.attn_k.bias"), code: "missing_tensor", message: /blk\.1\.attn_k\.bias/ },
    { name: "qwen3 without a q norm", shape: { ...base, architecture: "qwen3" }, edit: withoutTensor("blk.0.attn_q_norm.weight"), code: "missing_tensor", message: /blk\.0\.attn_q_norm\.weight/ },
    { name: "gemma2 without a post-FFN norm", shape: { ...base, architecture: "gemma2" }, edit: withoutTensor("blk.1.post_ffw_norm.weight"), code: "missing_tensor", message: /post_ffw_norm/ },
    {
      name: "phi3 with a fused qkv of the wrong height", shape: { ...base, architecture: "phi3" },
      edit: reshaped("blk.0.attn_qkv.weight", [64, 112]),
      code: "shape_mismatch", message: /attn_qkv\.weight.*\[64, 112\].*\[64, 128\]/,
    },
    {
      name: "phi3 whose ffn_up holds only the up half", shape: { ...base, architecture: "phi3" },
      edit: reshaped("blk.1.ffn_up.weight", [64, 128]),
      code: "shape_mismatch", message: /ffn_up\.weight.*2·feed_forward_length/,
    },
    {
      name: "llama with a q bias in only one layer (llama.cpp applies biases; ignoring one is wrong)", shape: base,
      edit: (m) => m.tensors.push({ name: "blk.0.attn_q.bias", dims: [64], type: GgmlType.F32, values: () => new Float32Array(64) }),
      code: "missing_tensor", message: /blk\.1\.attn_q\.bias/,
    },
    {
      name: "a tensor the architecture does not use", shape: { ...base, architecture: "qwen3" },
      edit: (m) => m.tensors.push({ name: "blk.0.attn_q.bias", dims: [64], type: GgmlType.F32, values: () => new Float32Array(64) }),
      code: "unexpected_tensor", message: /blk\.0\.attn_q\.bias.*qwen3 does not use it/,
    },
    {
      name: "block_count lower than the layers the file holds", shape: base,
      edit: (m) => (m.metadata["llama.block_count"] = meta.u32(1)), code: "unexpected_tensor", message: /block_count is 1, but the file holds layer 1/,
    },
    { name: "an RMS epsilon of 0", shape: base, edit: (m) => (m.metadata["llama.attention.layer_norm_rms_epsilon"] = meta.f32(0)), code: "bad_metadata", message: /layer_norm_rms_epsilon.*> 0/ },
    { name: "a RoPE base of 0", shape: base, edit: (m) => (m.metadata["llama.rope.freq_base"] = meta.f32(0)), code: "bad_metadata", message: /rope\.freq_base/ },
    {
      name: "a RoPE scaling factor of 0", shape: { ...base, ropeScaling: { type: "linear", factor: 2 } },
      edit: (m) => (m.metadata["llama.rope.scaling.factor"] = meta.f32(0)), code: "bad_metadata", message: /rope\.scaling\.factor/,
    },
    {
      name: "a count of 1e30 (the fuzzer's WGSL constant overflow)", shape: { ...base, architecture: "gemma2" },
      edit: (m) => (m.metadata["gemma2.attention.sliding_window"] = meta.f32(1e30)), code: "bad_metadata", message: /sliding_window.*below 2\^32/,
    },
    { name: "an unknown RoPE scaling", shape: base, edit: (m) => (m.metadata["llama.rope.scaling.type"] = meta.str("ntk")), code: "bad_metadata", message: /rope scaling "ntk"/ },
    { name: "a Gemma 2 soft-cap below 0", shape: { ...base, architecture: "gemma2" }, edit: (m) => (m.metadata["gemma2.final_logit_softcapping"] = meta.f32(-1)), code: "bad_metadata", message: /final_logit_softcapping/ },
  ];
  it.each(cases)("$name → $code", async ({ shape, edit, code, message }) => {
    await expectGgufError(headerOf(shape, edit).then((h) => modelConfigFromGguf(h)), code, message);
  });
});
