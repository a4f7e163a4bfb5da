// KV-cache formats. A cached vector (one head's key, or value, for one token in one layer) of d values
// is stored as d packed values plus one scale (and zero point) per group of `groupSize` values:
//
//   bytes(d) = ceil(d × bitsPerValue / 8) + ceil(d / groupSize) × (scaleBytes + zeroBytes)
//
// plus `tensorScaleBytes` once per layer for the whole K (or V) cache (fp8's and nvfp4's per-tensor scale).
// Groups run along the head dimension and never straddle two heads. Effective bits per value:
//   bits = bitsPerValue + 8 × (scaleBytes + zeroBytes) / groupSize
//
// Defaults (each one a choice, stated so a runtime profile can replace it):
//   f32 32 · f16 16 · bf16 16                                   no scales
//   fp8   e4m3, 8 bits, one f32 per-tensor scale                 →  8 bits
//   int8  symmetric, f16 scale per 32                            →  8 + 16/32 = 8.5 bits
//   int4  asymmetric, f16 scale + f16 zero per 32                →  4 + 32/32 = 5 bits
//   int2  asymmetric, f16 scale + f16 zero per 32                →  2 + 32/32 = 3 bits
//   nvfp4 e2m1, one e4m3 scale per 16, one f32 per-tensor scale  →  4 + 8/16  = 4.5 bits
//   q8_0  llama.cpp's cache type: f16 scale per 32               →  8.5 bits
//   q4_0  llama.cpp's cache type: f16 scale per 32               →  4.5 bits

import { EstimatorError } from "./errors.js";

export interface KvFormatSpec {
  id: string;
  bitsPerValue: number;
  /** Values sharing one scale (and zero); 0 for formats without per-group scales. */
  groupSize: number;
  scaleBytes: number;
  zeroBytes: number;
  /** Bytes once per layer for each of K and V (a per-tensor scale). */
  tensorScaleBytes: number;
  description: string;
}

const kv = (
  id: string, bitsPerValue: number, groupSize: number, scaleBytes: number, zeroBytes: number,
  tensorScaleBytes: number, description: string,
): KvFormatSpec => ({ id, bitsPerValue, groupSize, scaleBytes, zeroBytes, tensorScaleBytes, description });

export const KV_FORMATS: readonly KvFormatSpec[] = [
  kv("f32", 32, 0, 0, 0, 0, "32-bit float"),
  kv("f16", 16, 0, 0, 0, 0, "16-bit float"),
  kv("bf16", 16, 0, 0, 0, 0, "bfloat16"),
  kv("fp8", 8, 0, 0, 0, 4, "FP8 e4m3 + one f32 scale per layer's K (or V) cache"),
  kv("int8", 8, 32, 2, 0, 0, "int8, symmetric: f16 scale per 32 values"),
  kv("int4", 4, 32, 2, 2, 0, "int4, asymmetric: f16 scale + f16 zero per 32 values"),
  kv("int2", 2, 32, 2, 2, 0, "int2, asymmetric: f16 scale + f16 zero per 32 values"),
  kv("nvfp4", 4, 16, 1, 0, 4, "NVFP4: e2m1 values, e4m3 scale per 16, f32 per-tensor scale"),
  kv("q8_0", 8, 32, 2, 0, 0, "llama.cpp q8_0 cache: f16 scale per 32"),
  kv("q4_0", 4, 32, 2, 0, 0, "llama.cpp q4_0 cache: f16 scale per 32"),
];

export function kvFormat(id: string): KvFormatSpec {
  const wanted = id.toLowerCase();
  const found = KV_FORMATS.find((f) => f.id === wanted);
  if (!found) throw new EstimatorError(`unknown KV format "${id}" (known: ${KV_FORMATS.map((f) => f.id).join(", ")})`);
  return found;
}

/** A format given by id or as a full spec (a runtime's own profile). Checks the spec's numbers. */
export function resolveKvFormat(format: string | KvFormatSpec): KvFormatSpec {
  if (typeof format === "string") return kvFormat(format);
  const ok = format.bitsPerValue > 0 && Number.isInteger(format.groupSize) && format.groupSize >= 0 &&
    format.scaleBytes >= 0 && format.zeroBytes >= 0 && format.tensorScaleBytes >= 0;
  if (!ok) throw new EstimatorError(`KV format "${format.id}" has impossible numbers: ${JSON.stringify(format)}`);
  return format;
}

/** Effective bits per cached value, scales included. */
export function kvBitsPerValue(format: KvFormatSpec): number {
  const groupBits = format.groupSize > 0 ? (8 * (format.scaleBytes + format.zeroBytes)) / format.groupSize : 0;
  return format.bitsPerValue + groupBits;
}

/** Bytes of one cached vector of `values` values (one head, one token, one layer). */
export function kvVectorBytes(format: KvFormatSpec, values: number): number {
  const packed = Math.ceil((values * format.bitsPerValue) / 8);
  const groups = format.groupSize > 0 ? Math.ceil(values / format.groupSize) : 0;
  return packed + groups * (format.scaleBytes + format.zeroBytes);
}

/** "8 bits + 2 B scale per 32" — how a vector's bytes were counted, for the formulas. */
export function describeKvFormat(format: KvFormatSpec): string {
  const parts = [`${format.bitsPerValue} bits/value`];
  if (format.groupSize > 0) {
    const extra = [format.scaleBytes ? `${format.scaleBytes} B scale` : "", format.zeroBytes ? `${format.zeroBytes} B zero` : ""]
      .filter(Boolean).join(" + ");
    parts.push(`${extra} per ${format.groupSize}`);
  }
  if (format.tensorScaleBytes) parts.push(`${format.tensorScaleBytes} B per-tensor scale`);
  if (parts.length === 1) return `${format.id} (${format.bitsPerValue} bits)`;
  return `${format.id} (${parts.join(" + ")} = ${kvBitsPerValue(format)} bits)`;
}
