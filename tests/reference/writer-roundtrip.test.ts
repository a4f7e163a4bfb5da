// Files from our GGUF writer, checked by three independent readers: stories260K re-written with its matrices
// in F32, F16, Q8_0 and Q4_0 must
//   - read back through our reader, with `dequantize` equal bit for bit to ggml's dequantize_row_* formulas
//     (re-implemented below, separately from src/gguf/quant.ts),
//   - parse identically with @huggingface/gguf (names, shapes, types, offsets, metadata),
//   - load in llama.cpp and give logits consistent with the CPU reference on the same file.

import { gguf as hfGguf } from "@huggingface/gguf";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { fileSource } from "../../src/gguf/node-source.js";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import {
  GGML_TYPE_LAYOUT,
  GgmlType,
  GgufValueType,
  dequantize,
  quantize,
  readGgufHeader,
  readTensorBytes,
  type GgufHeader,
  type GgufWriteTensor,
  type GgufWriteValue,
} from "../../src/gguf/index.js";
import { modelPath } from "../helpers/env.js";
import { compareLogits, describeComparison, sampleSequence } from "./compare.js";
import { loadReferenceModel } from "./llama-cpu.js";
import { disposeSharedLlama, llamaCppLogits } from "./llamacpp.js";

// ---------------------------------------------------------------------------------------------------------
// ggml's dequantization, from its definitions (ggml-common.h block layouts, ggml-quants.c dequantize_row_*)

/** GGML_FP16_TO_FP32: build the float32 bit pattern from the half's fields. */
function halfToFloat(h: number): number {
  const sign = (h >> 15) & 1;
  const exponent = (h >> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  const bits = new DataView(new ArrayBuffer(4));
  if (exponent === 0x1f) {
    bits.setUint32(0, (sign << 31) | 0x7f800000 | (mantissa << 13));
  } else if (exponent !== 0) {
    bits.setUint32(0, (sign << 31) | ((exponent - 15 + 127) << 23) | (mantissa << 13));
  } else {
    // zero or subnormal: mantissa · 2^-24
    return (sign ? -1 : 1) * mantissa * 2 ** -24;
  }
  return bits.getFloat32(0);
}

/** dequantize_row_*: bytes of `type` → float32. */
function ggmlDequantizeRow(type: GgmlType, bytes: Uint8Array, count: number): Float32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const y = new Float32Array(count);
  switch (type) {
    case GgmlType.F32:
      for (let i = 0; i < count; i++) y[i] = view.getFloat32(4 * i, true);
      return y;
    case GgmlType.F16:
      for (let i = 0; i < count; i++) y[i] = halfToFloat(view.getUint16(2 * i, true));
      return y;
    case GgmlType.Q8_0: {
      // block_q8_0 { ggml_half d; int8_t qs[32]; }        y[j] = qs[j] · d
      for (let i = 0; i < count / 32; i++) {
        const d = halfToFloat(view.getUint16(34 * i, true));
        for (let j = 0; j < 32; j++) y[32 * i + j] = Math.fround(view.getInt8(34 * i + 2 + j) * d);
      }
      return y;
    }
    case GgmlType.Q4_0: {
      // block_q4_0 { ggml_half d; uint8_t qs[16]; }       y[j] = ((qs[j] & 0x0F) − 8) · d
      //                                                   y[j + 16] = ((qs[j] >> 4) − 8) · d
      for (let i = 0; i < count / 32; i++) {
        const d = halfToFloat(view.getUint16(18 * i, true));
        for (let j = 0; j < 16; j++) {
          const q = view.getUint8(18 * i + 2 + j);
          y[32 * i + j] = Math.fround(((q & 0x0f) - 8) * d);
          y[32 * i + j + 16] = Math.fround(((q >> 4) - 8) * d);
        }
      }
      return y;
    }
    default:
      throw new Error(`no reference dequantizer for type ${type}`);
  }
}

function sameBits(a: Float32Array, b: Float32Array): boolean {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

// ---------------------------------------------------------------------------------------------------------
// stories260K re-written

/** The header's metadata as writer values, with the value types it was stored with. */
function metadataForWriting(header: GgufHeader): Record<string, GgufWriteValue> {
  const out: Record<string, GgufWriteValue> = {};
  for (const [key, value] of header.metadata) {
    const { type, elementType } = header.metadataTypes.get(key)!;
    out[key] = (type === GgufValueType.ARRAY
      ? { type, elementType: elementType!, value: value as ArrayLike<unknown> }
      : { type, value }) as GgufWriteValue;
  }
  return out;
}

/** 2-D matrices whose rows divide into `type`'s blocks take `type`; the rest (norms, ffn_down's 172) stay F32. */
function typeFor(dims: number[], type: GgmlType): GgmlType {
  return dims.length === 2 && dims[0]! % GGML_TYPE_LAYOUT[type].blockElements === 0 ? type : GgmlType.F32;
}

const TYPES = [GgmlType.F32, GgmlType.F16, GgmlType.Q8_0, GgmlType.Q4_0] as const;
// bounds on max |Δlogit| between llama.cpp and the reference, a few times the measured values
const MAX_ABS_DIFF: Record<(typeof TYPES)[number], number> = {
  [GgmlType.F32]: 1e-4, // measured 2.3e-5
  [GgmlType.F16]: 0.05, // 1.0e-2: llama.cpp rounds activations to f16 for F16 weights
  [GgmlType.Q8_0]: 0.6, // 0.33: and to Q8_0 blocks for Q8_0/Q4_0 weights
  [GgmlType.Q4_0]: 0.8, // 0.37
};

let dir = "";
const written = new Map<GgmlType, string>();
let original: { header: GgufHeader; values: Map<string, Float32Array> };
let sequences: number[][] = []; // for llama.cpp: the published greedy text and a sample from the model

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "webkv-writer-"));
  const source = await fileSource(modelPath("stories260K.gguf"));
  const header = await readGgufHeader(source);
  const values = new Map<string, Float32Array>();
  for (const info of header.tensors) {
    values.set(info.name, dequantize(info.type, await readTensorBytes(source, info), info.elementCount));
  }
  await source.close?.();
  original = { header, values };
  const greedy = (JSON.parse(readFileSync(modelPath("stories260K.greedy-from-bos.json"), "utf8")) as {
    ids_including_leading_bos: number[];
  }).ids_including_leading_bos;
  sequences = [greedy, sampleSequence(await loadReferenceModel(modelPath("stories260K.gguf")), 1, 160, 0.8, 21)];
  for (const type of TYPES) {
    const tensors: GgufWriteTensor[] = header.tensors.map((info) => ({
      name: info.name,
      dims: info.dims,
      type: typeFor(info.dims, type),
      values: values.get(info.name)!,
    }));
    const path = join(dir, `stories260K-${GgmlType[type]}.gguf`);
    await writeGgufFile(path, metadataForWriting(header), tensors);
    written.set(type, path);
  }
});

afterAll(async () => {
  await disposeSharedLlama();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("GGUF writer round trip (stories260K re-written)", () => {
  for (const type of TYPES) {
    const name = GgmlType[type];

    it(`${name}: our reader gets the tensors back, dequantized exactly as ggml defines`, async () => {
      const source = await fileSource(written.get(type)!);
      const header = await readGgufHeader(source);
      expect(header.tensors.map((t) => t.name)).toEqual(original.header.tensors.map((t) => t.name));
      expect([...header.metadata.keys()]).toEqual([...original.header.metadata.keys()]);
      let ofType = 0;
      for (const info of header.tensors) {
        const before = original.values.get(info.name)!;
        expect(info.dims).toEqual(original.header.tensorByName.get(info.name)!.dims);
        expect(info.type).toBe(typeFor(info.dims, type));
        if (info.type === type) ofType++;
        const bytes = await readTensorBytes(source, info);
        expect(Buffer.from(bytes).equals(Buffer.from(quantize(info.type, before))), info.name).toBe(true);
        const ours = dequantize(info.type, bytes, info.elementCount);
        expect(sameBits(ours, ggmlDequantizeRow(info.type, bytes, info.elementCount)), info.name).toBe(true);
        if (info.type === GgmlType.F32) expect(sameBits(ours, before), info.name).toBe(true);
      }
      // 48 tensors: 35 matrices in the 5 blocks + token_embd + output, 12 norms; 5 ffn_down rows of 172
      const expectedOfType = { [GgmlType.F32]: 48, [GgmlType.F16]: 37, [GgmlType.Q8_0]: 32, [GgmlType.Q4_0]: 32 }[type];
      expect(ofType).toBe(expectedOfType);
      await source.close?.();
    });

    it(`${name}: @huggingface/gguf parses the same header`, async () => {
      const path = written.get(type)!;
      const source = await fileSource(path);
      const ours = await readGgufHeader(source);
      await source.close?.();
      const theirs = await hfGguf(path, { allowLocalFile: true });
      expect(Number(theirs.tensorDataOffset)).toBe(ours.dataOffset);
      expect(theirs.tensorInfos.length).toBe(ours.tensors.length);
      theirs.tensorInfos.forEach((info, i) => {
        const mine = ours.tensors[i]!;
        expect(info.name).toBe(mine.name);
        expect(info.shape.map(Number)).toEqual(mine.dims);
        expect(Number(info.dtype)).toBe(mine.type);
        expect(Number(info.offset)).toBe(mine.relativeOffset);
      });
      const metadata = theirs.metadata as Record<string, unknown>;
      expect(metadata["general.architecture"]).toBe("llama");
      expect(metadata["llama.embedding_length"]).toBe(64);
      expect(metadata["llama.attention.head_count_kv"]).toBe(4);
      expect((metadata["tokenizer.ggml.tokens"] as string[]).slice(0, 4)).toEqual(["<unk>", "<s>", "</s>", "<0x00>"]);
      expect((metadata["tokenizer.ggml.tokens"] as string[]).length).toBe(512);
    });

    it(`${name}: llama.cpp loads it and agrees with the CPU reference`, async () => {
      const path = written.get(type)!;
      const model = await loadReferenceModel(path);
      const ours = sequences.map((ids) => model.logitsForSequence(ids));
      const theirs = await llamaCppLogits(path, sequences);
      const result = compareLogits(ours, theirs);
      console.log(describeComparison(`re-written stories260K ${name}`, result));
      expect(result.top1Agreement).toBeGreaterThanOrEqual(0.99);
      expect(result.maxAbsDiff).toBeLessThan(MAX_ABS_DIFF[type]);
    });
  }
});
