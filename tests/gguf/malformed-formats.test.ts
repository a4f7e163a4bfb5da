// Malformed files in the newer weight formats: K-quant data cut short ends in the reader's named errors (the
// tensor named), short block data is refused by dequantize ("truncated", the type named), and a tensor whose
// type webkv cannot read (IQ2_XXS, TQ1_0, MXFP4…) is refused before anything is uploaded, naming the tensor,
// its type and the supported list. The K-quant file is made by llama.cpp's own quantizer.

import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  GGML_TYPE_LAYOUT,
  GgmlType,
  GgufError,
  bytesSource,
  dequantize,
  encodeGgufBytes,
  ggmlTypeName,
  readGgufHeader,
  readTensorBytes,
  type GgufHeader,
} from "../../src/gguf/index.js";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { Random } from "../../src/gguf/random.js";
import { syntheticLlama, type SyntheticLlamaShape } from "../../src/gguf/synthetic.js";
import { modelConfigFromGguf } from "../../src/model/config.js";
import { quantizeWithLlamaCpp } from "../reference/llamacpp-quantize.js";

const SHAPE: SyntheticLlamaShape = { dim: 256, layers: 1, heads: 4, kvHeads: 2, ffn: 512, vocab: 512, contextLength: 256 };

async function errorOf(run: () => Promise<unknown> | unknown): Promise<GgufError> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(GgufError);
    return error as GgufError;
  }
  throw new Error("no error was thrown");
}

describe("truncated K-quant data", () => {
  let dir: string;
  let file: Uint8Array;
  let header: GgufHeader;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "webkv-malformed-formats-"));
    const f32 = join(dir, "f32.gguf");
    const { metadata, tensors } = syntheticLlama(SHAPE, { seed: 9, weightType: GgmlType.F32 });
    await writeGgufFile(f32, metadata, tensors);
    await quantizeWithLlamaCpp(f32, join(dir, "q4_k_m.gguf"), "Q4_K_M");
    file = new Uint8Array(readFileSync(join(dir, "q4_k_m.gguf")));
    header = await readGgufHeader(bytesSource(file, "q4_k_m.gguf"));
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const type of [GgmlType.Q4_K, GgmlType.Q6_K]) {
    it(`a file cut in the middle of a ${ggmlTypeName(type)} block names the tensor`, async () => {
      const tensor = header.tensors.find((t) => t.type === type)!;
      expect(tensor, `the Q4_K_M file holds a ${ggmlTypeName(type)} tensor`).toBeDefined();
      const cutAt = tensor.offset + Math.floor(GGML_TYPE_LAYOUT[type].blockBytes * 2.5);
      const cut = file.subarray(0, cutAt);
      const error = await errorOf(() => readGgufHeader(bytesSource(cut, "cut.gguf")));
      expect(error.code).toBe("tensor_out_of_bounds");
      // The first tensor (in header order) that reaches past the cut is named; ours is at or after it in the file.
      const named = header.tensors.find((t) => t.offset + t.byteLength > cutAt)!;
      expect(error.message).toContain(`"${named.name}"`);
      // Read with the whole file's header, the cut tensor itself is refused by name.
      const read = await errorOf(() => readTensorBytes(bytesSource(cut, "cut.gguf"), tensor));
      expect(read.code).toBe("tensor_out_of_bounds");
      expect(read.message).toContain(`"${tensor.name}"`);
    });
  }

  for (const type of [GgmlType.Q2_K, GgmlType.Q3_K, GgmlType.Q4_K, GgmlType.Q5_K, GgmlType.Q6_K, GgmlType.IQ4_XS, GgmlType.Q5_0, GgmlType.IQ4_NL]) {
    it(`dequantize refuses ${ggmlTypeName(type)} data one byte short of its last block`, async () => {
      const { blockElements, blockBytes } = GGML_TYPE_LAYOUT[type];
      const error = await errorOf(() => dequantize(type, new Uint8Array(3 * blockBytes - 1), 3 * blockElements));
      expect(error.code).toBe("truncated");
      expect(error.message).toContain(`${ggmlTypeName(type)} data truncated`);
      expect(error.message).toContain(`need ${3 * blockBytes} bytes`);
    });
  }

  it("dequantize refuses a value count that is not whole K-quant blocks", async () => {
    const error = await errorOf(() => dequantize(GgmlType.Q4_K, new Uint8Array(144 * 2), 300));
    expect(error.code).toBe("shape_mismatch");
  });
});

describe("tensor types webkv cannot read", () => {
  /** The synthetic model with one tensor replaced by random bytes of `type`. */
  function modelWith(tensorName: string, type: GgmlType): Uint8Array {
    const { metadata, tensors } = syntheticLlama(SHAPE, { seed: 3, weightType: GgmlType.F32 });
    const random = new Random(type);
    const replaced = tensors.map((t) => {
      if (t.name !== tensorName) return t;
      const { blockElements, blockBytes } = GGML_TYPE_LAYOUT[type];
      const bytes = new Uint8Array((t.dims.reduce((a, b) => a * b, 1) / blockElements) * blockBytes);
      for (let i = 0; i < bytes.length; i++) bytes[i] = random.nextInt(256);
      return { name: t.name, dims: t.dims, type, bytes };
    });
    return encodeGgufBytes(metadata, replaced);
  }

  const cases = [
    { tensor: "blk.0.attn_q.weight", type: GgmlType.IQ2_XXS },
    { tensor: "blk.0.ffn_down.weight", type: GgmlType.TQ1_0 },
    { tensor: "output.weight", type: GgmlType.MXFP4 },
    { tensor: "token_embd.weight", type: GgmlType.IQ3_S },
    { tensor: "blk.0.ffn_norm.weight", type: GgmlType.TQ2_0 },
  ];
  it.each(cases.map((c) => ({ ...c, name: ggmlTypeName(c.type) })))("$tensor as $name", async ({ tensor, type }) => {
    const header = await readGgufHeader(bytesSource(modelWith(tensor, type), "model.gguf")); // a valid GGUF
    expect(header.tensorByName.get(tensor)!.type).toBe(type);
    const error = await errorOf(() => modelConfigFromGguf(header));
    expect(error.code).toBe("unsupported_tensor_type");
    expect(error.message).toContain(`tensor "${tensor}" is ${ggmlTypeName(type)}`);
    expect(error.message).toMatch(/supported: F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q2_K, Q3_K, Q4_K, Q5_K, Q6_K, IQ4_NL, IQ4_XS\)/);
  });

  it("dequantize names the type it cannot read", async () => {
    const error = await errorOf(() => dequantize(GgmlType.IQ2_XXS, new Uint8Array(66), 256));
    expect(error.code).toBe("unsupported_tensor_type");
    expect(error.message).toMatch(/cannot dequantize IQ2_XXS \(supported: .*Q4_K.*IQ4_XS/);
  });
});
