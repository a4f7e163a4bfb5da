// Weight formats as block layouts: `blockElements` values stored in `blockBytes` bytes, scales included.
// bits per weight = 8 × blockBytes / blockElements. The ggml block sizes are ggml's own (one struct per type):
//   Q8_0: f16 d + 32 × i8                      = 34 B / 32  → 8.5 bits
//   Q4_0: f16 d + 32 × 4 bit                   = 18 B / 32  → 4.5
//   Q4_1: f16 d + f16 m + 32 × 4 bit           = 20 B / 32  → 5
//   Q5_0: f16 d + 32 high bits + 32 × 4 bit    = 22 B / 32  → 5.5
//   Q5_1: f16 d, m + 32 high bits + 32 × 4 bit = 24 B / 32  → 6
//   K-quants, super-blocks of 256: Q2_K 84 B → 2.625, Q3_K 110 B → 3.4375, Q4_K 144 B → 4.5,
//   Q5_K 176 B → 5.5, Q6_K 210 B → 6.5625, Q8_K 292 B → 9.125 (Q8_K is ggml's dot-product partner, not a file type).
//   IQ4_NL: f16 d + 32 × 4-bit index into a 16-level table = 18 B / 32 → 4.5;  IQ4_XS: 136 B / 256 → 4.25.
// On webkv's GPU (src/model/weight-layout.ts, documented there) a block takes `webkv` bytes: Q8_0/Q4_0 split
// into quants (32 / 16 B) and an f16 scale (2 B, scales padded to whole words per chunk); every other quantized
// type keeps its GGUF block padded to a multiple of 4 bytes (Q5_0 22 → 24, Q3_K 110 → 112, Q6_K 210 → 212,
// IQ4_NL 18 → 20; the rest are already whole words); F32/F16/BF16 as stored.
// Non-ggml formats:
//   FP8 (e4m3): 8 bits, one per-tensor scale (4 B, ignored per tensor).
//   INT8: 8 bits + one f16 scale per output row (perRowBytes 2).
//   INT4-g128: 4 bits + one f16 scale per 128 → 4.125 bits (symmetric, no zero point).
//   INT4-g128-zp: 4 bits + f16 scale + f16 zero per 128 → 4.25 bits (asymmetric).
//   MXFP4: 32 × e2m1 + one e8m0 scale = 17 B / 32 → 4.25 bits.  NVFP4: 16 × e2m1 + one e4m3 scale = 9 B / 16 → 4.5.

import { EstimatorError } from "./errors.js";

export interface WeightFormatSpec {
  id: string;
  blockElements: number;
  blockBytes: number;
  /** Bytes added once per matrix row (per-output-channel scales). */
  perRowBytes: number;
  /** True for plain float formats: vectors (norms, biases) are then stored in this format too. */
  isFloat: boolean;
  description: string;
}

const spec = (id: string, blockElements: number, blockBytes: number, description: string, perRowBytes = 0): WeightFormatSpec => ({
  id, blockElements, blockBytes, perRowBytes, isFloat: false, description,
});
const float = (id: string, bytes: number, description: string): WeightFormatSpec => ({
  id, blockElements: 1, blockBytes: bytes, perRowBytes: 0, isFloat: true, description,
});

export const WEIGHT_FORMATS: readonly WeightFormatSpec[] = [
  float("f32", 4, "32-bit float"),
  float("f16", 2, "16-bit float"),
  float("bf16", 2, "bfloat16"),
  spec("q8_0", 32, 34, "ggml Q8_0: f16 scale + 32 × int8"),
  spec("q4_0", 32, 18, "ggml Q4_0: f16 scale + 32 × 4 bit"),
  spec("q4_1", 32, 20, "ggml Q4_1: f16 scale + f16 min + 32 × 4 bit"),
  spec("q5_0", 32, 22, "ggml Q5_0: f16 scale + 32 × 5 bit"),
  spec("q5_1", 32, 24, "ggml Q5_1: f16 scale + f16 min + 32 × 5 bit"),
  spec("q2_k", 256, 84, "ggml Q2_K: 84 B per 256"),
  spec("q3_k", 256, 110, "ggml Q3_K: 110 B per 256"),
  spec("q4_k", 256, 144, "ggml Q4_K: 144 B per 256"),
  spec("q5_k", 256, 176, "ggml Q5_K: 176 B per 256"),
  spec("q6_k", 256, 210, "ggml Q6_K: 210 B per 256"),
  spec("q8_k", 256, 292, "ggml Q8_K: 292 B per 256"),
  spec("iq4_nl", 32, 18, "ggml IQ4_NL: f16 scale + 32 × 4-bit table index"),
  spec("iq4_xs", 256, 136, "ggml IQ4_XS: 136 B per 256"),
  spec("fp8", 1, 1, "FP8 e4m3, per-tensor scale"),
  spec("int8", 1, 1, "INT8 + one f16 scale per output row", 2),
  spec("int4-g128", 128, 66, "INT4, symmetric: f16 scale per 128"),
  spec("int4-g128-zp", 128, 68, "INT4, asymmetric: f16 scale + f16 zero per 128"),
  spec("mxfp4", 32, 17, "MXFP4: 32 × e2m1 + e8m0 scale"),
  spec("nvfp4", 16, 9, "NVFP4: 16 × e2m1 + e4m3 scale"),
];

export function weightFormat(id: string): WeightFormatSpec {
  const wanted = id.toLowerCase();
  const found = WEIGHT_FORMATS.find((f) => f.id === wanted);
  if (!found) {
    throw new EstimatorError(`unknown weight format "${id}" (known: ${WEIGHT_FORMATS.map((f) => f.id).join(", ")})`);
  }
  return found;
}

export function bitsPerWeight(format: WeightFormatSpec): number {
  return (8 * format.blockBytes) / format.blockElements;
}

/** Bytes of a matrix of `rows` rows, each `rowLength` values long, in `format`.
 *  Rows that are not a whole number of blocks cannot be block-quantized: such a matrix stays in F16
 *  (ggml's quantizers refuse it too); `fellBack` says so. */
export function matrixBytes(format: WeightFormatSpec, rows: number, rowLength: number): { bytes: number; fellBack: boolean } {
  if (rowLength % format.blockElements !== 0) return { bytes: rows * rowLength * 2, fellBack: true };
  return { bytes: rows * ((rowLength / format.blockElements) * format.blockBytes + format.perRowBytes), fellBack: false };
}

/** Bytes of a vector (norm weight, bias): F32 beside quantized matrices, else the float format itself. */
export function vectorBytes(format: WeightFormatSpec, length: number): number {
  return length * (format.isFloat ? format.blockBytes : 4);
}

// ggml tensor types by id, for summing a GGUF's tensors exactly (ggml.h numbering; block layouts as above,
// plus the i-quants and ternary types a GGUF may hold).
// `webkv`: bytes of one block on webkv's GPU, as quant data and f16 scales (types webkv's kernels read).
interface GgmlTypeLayout {
  name: string;
  blockElements: number;
  blockBytes: number;
  webkv?: { data: number; scales: number };
}
const GGML_TYPES: Record<number, GgmlTypeLayout> = {
  0: { name: "F32", blockElements: 1, blockBytes: 4, webkv: { data: 4, scales: 0 } },
  1: { name: "F16", blockElements: 1, blockBytes: 2, webkv: { data: 2, scales: 0 } },
  2: { name: "Q4_0", blockElements: 32, blockBytes: 18, webkv: { data: 16, scales: 2 } },
  3: { name: "Q4_1", blockElements: 32, blockBytes: 20, webkv: { data: 20, scales: 0 } },
  6: { name: "Q5_0", blockElements: 32, blockBytes: 22, webkv: { data: 24, scales: 0 } },
  7: { name: "Q5_1", blockElements: 32, blockBytes: 24, webkv: { data: 24, scales: 0 } },
  8: { name: "Q8_0", blockElements: 32, blockBytes: 34, webkv: { data: 32, scales: 2 } },
  9: { name: "Q8_1", blockElements: 32, blockBytes: 36 },
  10: { name: "Q2_K", blockElements: 256, blockBytes: 84, webkv: { data: 84, scales: 0 } },
  11: { name: "Q3_K", blockElements: 256, blockBytes: 110, webkv: { data: 112, scales: 0 } },
  12: { name: "Q4_K", blockElements: 256, blockBytes: 144, webkv: { data: 144, scales: 0 } },
  13: { name: "Q5_K", blockElements: 256, blockBytes: 176, webkv: { data: 176, scales: 0 } },
  14: { name: "Q6_K", blockElements: 256, blockBytes: 210, webkv: { data: 212, scales: 0 } },
  15: { name: "Q8_K", blockElements: 256, blockBytes: 292 },
  16: { name: "IQ2_XXS", blockElements: 256, blockBytes: 66 },
  17: { name: "IQ2_XS", blockElements: 256, blockBytes: 74 },
  18: { name: "IQ3_XXS", blockElements: 256, blockBytes: 98 },
  19: { name: "IQ1_S", blockElements: 256, blockBytes: 50 },
  20: { name: "IQ4_NL", blockElements: 32, blockBytes: 18, webkv: { data: 20, scales: 0 } },
  21: { name: "IQ3_S", blockElements: 256, blockBytes: 110 },
  22: { name: "IQ2_S", blockElements: 256, blockBytes: 82 },
  23: { name: "IQ4_XS", blockElements: 256, blockBytes: 136, webkv: { data: 136, scales: 0 } },
  24: { name: "I8", blockElements: 1, blockBytes: 1 },
  25: { name: "I16", blockElements: 1, blockBytes: 2 },
  26: { name: "I32", blockElements: 1, blockBytes: 4 },
  27: { name: "I64", blockElements: 1, blockBytes: 8 },
  28: { name: "F64", blockElements: 1, blockBytes: 8 },
  29: { name: "IQ1_M", blockElements: 256, blockBytes: 56 },
  30: { name: "BF16", blockElements: 1, blockBytes: 2, webkv: { data: 2, scales: 0 } },
  34: { name: "TQ1_0", blockElements: 256, blockBytes: 54 },
  35: { name: "TQ2_0", blockElements: 256, blockBytes: 66 },
  39: { name: "MXFP4", blockElements: 32, blockBytes: 17 },
};

/** The block layout of a ggml tensor type given by id (12) or name ("Q4_K"). */
export function ggmlTypeLayout(type: number | string): GgmlTypeLayout {
  if (typeof type === "number") {
    const layout = GGML_TYPES[type];
    if (!layout) throw new EstimatorError(`unknown ggml tensor type id ${type}`);
    return layout;
  }
  const wanted = type.toUpperCase();
  const layout = Object.values(GGML_TYPES).find((t) => t.name === wanted);
  if (!layout) throw new EstimatorError(`unknown ggml tensor type "${type}"`);
  return layout;
}

/** ggml's id of a tensor type given by name ("Q4_K" → 12) or id. */
export function ggmlTypeId(type: number | string): number {
  if (typeof type === "number") return type;
  const wanted = type.toUpperCase();
  const found = Object.entries(GGML_TYPES).find(([, t]) => t.name === wanted);
  if (!found) throw new EstimatorError(`unknown ggml tensor type "${type}"`);
  return Number(found[0]);
}

/** One block of a ggml type on webkv's GPU: values, quant-data bytes and f16-scale bytes. */
export function webkvGpuBlock(type: number | string): { blockElements: number; data: number; scales: number } {
  const layout = ggmlTypeLayout(type);
  if (!layout.webkv) {
    const supported = Object.values(GGML_TYPES).filter((t) => t.webkv).map((t) => t.name);
    throw new EstimatorError(`webkv's kernels do not read ${layout.name} matrices (supported: ${supported.join(", ")})`);
  }
  return { blockElements: layout.blockElements, ...layout.webkv };
}

/** Bytes of a GGUF tensor: (elements / blockElements) × blockBytes. */
export function ggmlTensorBytes(type: number | string, elements: number): number {
  const layout = ggmlTypeLayout(type);
  return Math.ceil(elements / layout.blockElements) * layout.blockBytes;
}
