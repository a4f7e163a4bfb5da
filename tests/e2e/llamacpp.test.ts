// webkv on the GPU (headless Chromium) against llama.cpp as the outside reference: teacher-forced logits
// from `score` vs node-llama-cpp's raw logits (F32 KV cache, threads 1), on stories260K in F32, Q8_0 and
// Q4_0, on synthetic Llamas written by our GGUF writer, and on synthetic Llamas quantized by llama.cpp itself
// (K-quant, IQ4 and BF16 mixes). Top-1 agreement and max |Δlogit| are printed.
// For Q8_0/Q4_0, llama.cpp rounds activations to Q8_0 inside its CPU dot products (see
// tests/reference/llamacpp-stories.test.ts), so logits differ by a few tenths there; we do not.

import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { GgmlType } from "../../src/gguf/types.js";
import { SYNTHETIC_BOS_ID, syntheticLlama, type SyntheticLlamaShape } from "../../src/gguf/synthetic.js";
import { maxAbsDiff, useBrowserSession } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";
import { compareLogits, describeComparison, randomSequence, sampleSequence } from "../reference/compare.js";
import { loadReferenceModel } from "../reference/llama-cpu.js";
import { disposeSharedLlama, llamaCppLogits } from "../reference/llamacpp.js";
import { quantizeWithLlamaCpp, type LlamaFtype } from "../reference/llamacpp-quantize.js";
import { readGgufHeader } from "../../src/gguf/reader.js";
import { fileSource } from "../../src/gguf/node-source.js";
import { ggmlTypeName } from "../../src/gguf/types.js";

const session = useBrowserSession();
const tempDir = await mkdtemp(join(tmpdir(), "webkv-llamacpp-"));
afterAll(async () => {
  await disposeSharedLlama();
  await rm(tempDir, { recursive: true, force: true });
});

/** Teacher-forced logits from webkv: rows[s][p] = logits after sequences[s][0..p]. */
async function webkvLogits(path: string, sequences: number[][], options: Record<string, unknown> = {}): Promise<Float32Array[][]> {
  const loaded = await session().call<{ modelId: number; config: { vocabSize: number } }>("load", { url: session().publishFile(path), options });
  const vocab = loaded.config.vocabSize;
  const rows: Float32Array[][] = [];
  for (const ids of sequences) {
    const scored = await session().call<{ logits: Float32Array }>("score", { modelId: loaded.modelId, ids, keepLogits: true });
    rows.push(ids.map((_, p) => scored.logits.slice(p * vocab, (p + 1) * vocab)));
  }
  await session().call("unload", { modelId: loaded.modelId });
  return rows;
}

describe("webkv vs llama.cpp on stories260K", () => {
  let sequences: number[][] = [];
  beforeAll(async () => {
    const greedy = (JSON.parse(await readFile(modelPath("stories260K.greedy-from-bos.json"), "utf8")) as { ids_including_leading_bos: number[] })
      .ids_including_leading_bos;
    const reference = await loadReferenceModel(modelPath("stories260K.gguf"));
    sequences = [
      greedy,
      sampleSequence(reference, 1, 160, 0.8, 1),
      sampleSequence(reference, 1, 160, 1.0, 2),
      sampleSequence(reference, 1, 160, 1.0, 3),
      randomSequence(1, 64, 3, 512, 4),
    ];
  });

  const cases = [
    { file: "stories260K.gguf", minAgreement: 0.99, maxAbs: 1e-3 },
    { file: "stories260K-q8_0.gguf", minAgreement: 0.97, maxAbs: 0.6 },
    { file: "stories260K-q4_0.gguf", minAgreement: 0.97, maxAbs: 0.8 },
  ];
  it.each(cases)("$file: top-1 agreement ≥ $minAgreement over ≥ 500 positions", async ({ file, minAgreement, maxAbs }) => {
    const ours = await webkvLogits(modelPath(file), sequences);
    const theirs = await llamaCppLogits(modelPath(file), sequences);
    const result = compareLogits(ours, theirs);
    console.log(describeComparison(`webkv vs llama.cpp, ${file}`, result));
    expect(result.positions).toBeGreaterThanOrEqual(500);
    expect(result.top1Agreement).toBeGreaterThanOrEqual(minAgreement);
    expect(result.maxAbsDiff).toBeLessThan(maxAbs);
  });
});

describe("synthetic Llamas written by our GGUF writer", () => {
  const shapeA: SyntheticLlamaShape = { dim: 128, layers: 4, heads: 8, kvHeads: 2, ffn: 384, vocab: 1000, contextLength: 512 };
  const shapeB: SyntheticLlamaShape = { dim: 64, layers: 2, heads: 4, kvHeads: 4, ffn: 160, vocab: 512, contextLength: 256, tiedOutput: true, ropeBase: 500000 };
  const cases = [
    { label: "A F32", shape: shapeA, type: GgmlType.F32, maxAbs: 1e-3 },
    { label: "A Q8_0", shape: shapeA, type: GgmlType.Q8_0, maxAbs: 0.6 },
    { label: "A Q4_0", shape: shapeA, type: GgmlType.Q4_0, maxAbs: 0.6 },
    { label: "B F16 (tied output)", shape: shapeB, type: GgmlType.F16, maxAbs: 0.1 },
  ];
  it.each(cases)("$label: top-1 agreement ≥ 99% with llama.cpp over 512 positions", async ({ label, shape, type, maxAbs }) => {
    const path = join(tempDir, `synthetic-${label.replace(/\W+/g, "-")}.gguf`);
    const model = syntheticLlama(shape, { seed: 7, weightType: type });
    await writeGgufFile(path, model.metadata, model.tensors);
    const sequences = [0, 1, 2, 3].map((i) => randomSequence(SYNTHETIC_BOS_ID, 128, 3, shape.vocab, 70 + i));
    const ours = await webkvLogits(path, sequences);
    const theirs = await llamaCppLogits(path, sequences);
    const result = compareLogits(ours, theirs);
    console.log(describeComparison(`webkv vs llama.cpp, synthetic ${label}`, result));
    expect(result.positions).toBe(512);
    expect(result.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(result.maxAbsDiff).toBeLessThan(maxAbs);
  });

  it("weights split into many bindings give the same logits (a 4 KiB binding cap splits every matrix into chunks)", async () => {
    const path = join(tempDir, "synthetic-split.gguf");
    const model = syntheticLlama(shapeA, { seed: 9, weightType: GgmlType.Q4_0 });
    await writeGgufFile(path, model.metadata, model.tensors);
    const sequences = [randomSequence(SYNTHETIC_BOS_ID, 64, 3, shapeA.vocab, 5)];
    const whole = await webkvLogits(path, sequences);
    const split = await webkvLogits(path, sequences, { maxBindingBytes: 4096 });
    expect(maxAbsDiff(whole[0]!.flatMap((r) => [...r]), split[0]!.flatMap((r) => [...r]))).toBe(0);
  });
});

// Decode with int8 inputs (SwiftShader's default for Q8_0/Q4_0 matrices of ≥ 65,536 weights: the rows matmul
// multiplies int8 weights by the input quantized to int8 blocks, as llama.cpp's CPU matmuls do). Greedy decode
// from BOS, every step's logits against llama.cpp's for the same ids, and against webkv's own f32-input decode.
describe("decode with int8 inputs against llama.cpp", () => {
  const shape: SyntheticLlamaShape = { dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, vocab: 512, contextLength: 256 };
  it.each([GgmlType.Q8_0, GgmlType.Q4_0].map((type) => ({ type, name: ggmlTypeName(type) })))("$name: top-1 agreement ≥ 99% over 128 decode steps; f32 inputs differ by no more than quantizing them allows", async ({ type }) => {
    const path = join(tempDir, `synthetic-int8-${type}.gguf`);
    const model = syntheticLlama(shape, { seed: 31, weightType: type });
    await writeGgufFile(path, model.metadata, model.tensors);
    const decode = async (int8Activations: boolean) => {
      const loaded = await session().call<{ modelId: number; plan: { int8_activations: boolean } }>("load", {
        url: session().publishFile(path), options: { tuning: { int8Activations } },
      });
      expect(loaded.plan.int8_activations).toBe(int8Activations);
      const reply = await session().call<{ output_ids: number[]; logits: Float32Array[] }>("generate", {
        modelId: loaded.modelId, promptIds: [SYNTHETIC_BOS_ID], maxTokens: 128, ignoreEos: true, keepLogits: true,
      });
      await session().call("unload", { modelId: loaded.modelId });
      return reply;
    };
    const int8 = await decode(true);
    const f32 = await decode(false);
    const ids = [SYNTHETIC_BOS_ID, ...int8.output_ids.slice(0, -1)];
    const theirs = await llamaCppLogits(path, [ids]);
    const result = compareLogits([int8.logits], theirs);
    console.log(describeComparison(`webkv int8-input decode vs llama.cpp, synthetic ${ggmlTypeName(type)}`, result));
    expect(result.positions).toBe(128);
    expect(result.top1Agreement).toBeGreaterThanOrEqual(0.99);
    expect(result.maxAbsDiff).toBeLessThan(0.6);
    // the same steps with f32 inputs: the int8 path ran (the logits moved) and moved them little
    const steps = Math.min(int8.output_ids.length, f32.output_ids.length);
    const firstDifferent = int8.output_ids.findIndex((id, i) => id !== f32.output_ids[i]);
    const shared = firstDifferent < 0 ? steps : firstDifferent + 1;
    const moved = Math.max(...int8.logits.slice(0, shared).map((row, i) => maxAbsDiff(row, f32.logits[i]!)));
    console.log(`int8 vs f32 inputs: ${shared} steps on the same ids, max |Δlogit| ${moved.toExponential(2)}`);
    if (firstDifferent < 0) console.log(describeComparison(`webkv f32-input decode vs llama.cpp, synthetic ${ggmlTypeName(type)}`, compareLogits([f32.logits.slice(0, 128)], theirs)));
    expect(moved).toBeGreaterThan(0);
    expect(moved).toBeLessThan(0.6);
  });
});

// Files in llama.cpp's own mixes (Q4_K_M holds Q4_K, Q6_K and F32 tensors; Q3_K_M four K-quants…), quantized by
// llama.cpp from an F32 synthetic Llama whose rows are multiples of 256. webkv must equal the CPU reference
// (which dequantizes with the same bit-exact code) closely; against llama.cpp, whose CPU dot products round
// activations to 8 bits for these formats, the top-1 must still agree.
describe("synthetic Llamas quantized by llama.cpp (K-quants, IQ4, BF16 in llama.cpp's mixes)", () => {
  const shape: SyntheticLlamaShape = { dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, vocab: 512, contextLength: 256 };
  let f32Path = "";
  beforeAll(async () => {
    f32Path = join(tempDir, "synthetic-256-f32.gguf");
    const model = syntheticLlama(shape, { seed: 21, weightType: GgmlType.F32 });
    await writeGgufFile(f32Path, model.metadata, model.tensors);
  });

  // Together these hold Q2_K..Q6_K, IQ4_XS, IQ4_NL, Q5_1 and BF16 (tests/kernels covers each format alone).
  const ftypes: LlamaFtype[] = ["Q4_K_M", "Q3_K_M", "Q2_K", "IQ4_XS", "IQ4_NL", "Q5_1", "BF16"];
  it.each(ftypes)("%s: webkv = CPU reference, top-1 agreement with llama.cpp", async (ftype) => {
    const path = join(tempDir, `synthetic-256-${ftype}.gguf`);
    await quantizeWithLlamaCpp(f32Path, path, ftype);
    const source = await fileSource(path);
    const types = [...new Set((await readGgufHeader(source)).tensors.map((t) => ggmlTypeName(t.type)))].sort();
    await source.close?.();
    const sequences = [0, 1].map((i) => randomSequence(SYNTHETIC_BOS_ID, 96, 3, shape.vocab, 90 + i));
    const ours = await webkvLogits(path, sequences, { maxBindingBytes: 16384 }); // split every matrix into chunks too
    const reference = await loadReferenceModel(path);
    const cpu = compareLogits(ours, sequences.map((ids) => reference.logitsForSequence(ids)));
    const theirs = compareLogits(ours, await llamaCppLogits(path, sequences));
    console.log(`${ftype} [${types.join(", ")}]\n  ${describeComparison("webkv vs CPU reference", cpu)}\n  ${describeComparison("webkv vs llama.cpp", theirs)}`);
    expect(cpu.top1Agreement).toBe(1);
    expect(cpu.maxAbsDiff).toBeLessThan(1e-3);
    expect(theirs.top1Agreement).toBeGreaterThanOrEqual(0.97);
  });
});
