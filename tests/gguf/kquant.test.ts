// Our CPU dequantizers (src/gguf/quant*.ts) against ggml's own, bit for bit: files quantized by llama.cpp
// itself (llama_model_quantize from node-llama-cpp's libllama, tests/reference/llamacpp-quantize.ts) are
// dequantized twice, by us and by ggml's dequantize_row_* in libggml-base (tests/reference/ggml-quants.ts).
// The synthetic Llama has every row a multiple of 256, so each K-quant appears where its ftype puts it; the test
// checks which types each file really holds. Random blocks (random bits, finite f16 scales) then cover bit
// patterns a quantizer rarely writes (negative Q6_K scales, every Q3_K high-bit mask, …).

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEQUANTIZABLE_TYPES, GGML_TYPE_LAYOUT, GgmlType, dequantize, f32ToF16, ggmlTypeName, readGgufHeader, readTensorBytes } from "../../src/gguf/index.js";
import { fileSource } from "../../src/gguf/node-source.js";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { Random } from "../../src/gguf/random.js";
import { syntheticLlama } from "../../src/gguf/synthetic.js";
import { ggmlDequantize } from "../reference/ggml-quants.js";
import { quantizeWithLlamaCpp, type LlamaFtype } from "../reference/llamacpp-quantize.js";

let dir: string;
let f32Path: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "webkv-kquant-"));
  f32Path = join(dir, "f32.gguf");
  const { metadata, tensors } = syntheticLlama(
    { dim: 256, layers: 2, heads: 4, kvHeads: 2, ffn: 512, vocab: 512, contextLength: 256 },
    { seed: 5, weightType: GgmlType.F32 },
  );
  await writeGgufFile(f32Path, metadata, tensors);
});

afterAll(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const sameBits = (a: Float32Array, b: Float32Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

/** ftype → the tensor types llama.cpp writes for this model (norms stay F32). */
const FILES: { ftype: LlamaFtype; types: GgmlType[] }[] = [
  { ftype: "Q4_K_M", types: [GgmlType.F32, GgmlType.Q4_K, GgmlType.Q6_K] },
  { ftype: "Q5_K_M", types: [GgmlType.F32, GgmlType.Q5_K, GgmlType.Q6_K] },
  { ftype: "Q3_K_M", types: [GgmlType.F32, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K] },
  { ftype: "Q2_K", types: [GgmlType.F32, GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q6_K] },
  { ftype: "Q6_K", types: [GgmlType.F32, GgmlType.Q6_K] },
  { ftype: "Q4_0", types: [GgmlType.F32, GgmlType.Q4_0, GgmlType.Q6_K] },
  { ftype: "Q4_1", types: [GgmlType.F32, GgmlType.Q4_1, GgmlType.Q6_K] },
  { ftype: "Q5_0", types: [GgmlType.F32, GgmlType.Q5_0, GgmlType.Q6_K] },
  { ftype: "Q5_1", types: [GgmlType.F32, GgmlType.Q5_1, GgmlType.Q6_K] },
  { ftype: "Q8_0", types: [GgmlType.F32, GgmlType.Q8_0] },
  { ftype: "IQ4_NL", types: [GgmlType.F32, GgmlType.IQ4_NL, GgmlType.Q6_K] },
  { ftype: "IQ4_XS", types: [GgmlType.F32, GgmlType.IQ4_XS, GgmlType.Q6_K] },
  { ftype: "BF16", types: [GgmlType.F32, GgmlType.BF16] },
  { ftype: "F16", types: [GgmlType.F32, GgmlType.F16] },
];

describe("files quantized by llama.cpp dequantize exactly as ggml does", () => {
  const seen = new Set<GgmlType>();

  it.each(FILES)("$ftype", async ({ ftype, types }) => {
    const path = join(dir, `${ftype}.gguf`);
    await quantizeWithLlamaCpp(f32Path, path, ftype);
    const source = await fileSource(path);
    try {
      const header = await readGgufHeader(source);
      expect([...new Set(header.tensors.map((t) => ggmlTypeName(t.type)))].sort()).toEqual(types.map(ggmlTypeName).sort());
      for (const tensor of header.tensors) {
        if (tensor.type === GgmlType.F32) continue;
        const bytes = await readTensorBytes(source, tensor);
        const ours = dequantize(tensor.type, bytes, tensor.elementCount);
        const ggml = ggmlDequantize(tensor.type, bytes, tensor.elementCount);
        expect(sameBits(ours, ggml), `${tensor.name} (${ggmlTypeName(tensor.type)})`).toBe(true);
        seen.add(tensor.type);
      }
    } finally {
      await source.close?.();
    }
  });

  it("covered every quantized format dequantize reads", () => {
    const quantized = DEQUANTIZABLE_TYPES.filter((t) => t !== GgmlType.F32);
    expect(quantized.filter((t) => !seen.has(t)).map(ggmlTypeName)).toEqual([]);
  });
});

/** Where each block type keeps its f16 scales (byte offsets in a block): random bits there could be inf/NaN. */
const HALF_FIELDS: Partial<Record<GgmlType, number[]>> = {
  [GgmlType.Q4_0]: [0], [GgmlType.Q4_1]: [0, 2], [GgmlType.Q5_0]: [0], [GgmlType.Q5_1]: [0, 2], [GgmlType.Q8_0]: [0],
  [GgmlType.Q2_K]: [80, 82], [GgmlType.Q3_K]: [108], [GgmlType.Q4_K]: [0, 2], [GgmlType.Q5_K]: [0, 2], [GgmlType.Q6_K]: [208],
  [GgmlType.IQ4_NL]: [0], [GgmlType.IQ4_XS]: [0],
};

describe("random blocks dequantize exactly as ggml does", () => {
  it.each(Object.keys(HALF_FIELDS).map((t) => ({ type: Number(t) as GgmlType, name: ggmlTypeName(Number(t)) })))("$name", ({ type }) => {
    const { blockElements, blockBytes } = GGML_TYPE_LAYOUT[type];
    const blocks = 64;
    const random = new Random(type * 101);
    const bytes = new Uint8Array(blocks * blockBytes);
    for (let i = 0; i < bytes.length; i++) bytes[i] = random.nextInt(256);
    const view = new DataView(bytes.buffer);
    for (let b = 0; b < blocks; b++) {
      for (const at of HALF_FIELDS[type]!) view.setUint16(b * blockBytes + at, f32ToF16(random.nextNormal() * 0.05), true);
    }
    expect(sameBits(dequantize(type, bytes, blocks * blockElements), ggmlDequantize(type, bytes, blocks * blockElements))).toBe(true);
  });
});
