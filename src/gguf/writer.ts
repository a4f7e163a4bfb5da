// GGUF v3 writer: typed metadata, tensors from float values in F32/F16/BF16/Q8_0/Q4_0 (quantized with ggml's
// reference formulas) or from block bytes already in any ggml type's layout (K-quants, IQ4… made by llama.cpp),
// 32-byte aligned data. Produces the file as a list of parts so large models can be streamed.

import { concatBytes } from "../util/concat.js";
import { quantize } from "./quant.js";
import { GGML_TYPE_LAYOUT, GGUF_DEFAULT_ALIGNMENT, GGUF_MAGIC, GgmlType, GgufValueType, ggmlTypeName } from "./types.js";

export type GgufWriteValue =
  | { type: GgufValueType.STRING; value: string }
  | { type: GgufValueType.BOOL; value: boolean }
  | { type: GgufValueType.UINT64 | GgufValueType.INT64; value: number | bigint }
  | { type: Exclude<GgufValueType, GgufValueType.STRING | GgufValueType.BOOL | GgufValueType.ARRAY | GgufValueType.UINT64 | GgufValueType.INT64>; value: number }
  | { type: GgufValueType.ARRAY; elementType: GgufValueType; value: ArrayLike<unknown> };

export interface GgufWriteTensor {
  name: string;
  /** ggml order: dims[0] is the row length. */
  dims: number[];
  type: GgmlType;
  /** float values to be converted to `type` (or a function making them, called when the tensor is written),
   *  or bytes already in `type`'s layout. */
  values?: Float32Array | (() => Float32Array);
  bytes?: Uint8Array;
}

/** Small helpers so call sites read like the metadata they write. */
export const meta = {
  str: (value: string): GgufWriteValue => ({ type: GgufValueType.STRING, value }),
  u32: (value: number): GgufWriteValue => ({ type: GgufValueType.UINT32, value }),
  i32: (value: number): GgufWriteValue => ({ type: GgufValueType.INT32, value }),
  f32: (value: number): GgufWriteValue => ({ type: GgufValueType.FLOAT32, value }),
  bool: (value: boolean): GgufWriteValue => ({ type: GgufValueType.BOOL, value }),
  u64: (value: number | bigint): GgufWriteValue => ({ type: GgufValueType.UINT64, value }),
  strs: (value: string[]): GgufWriteValue => ({ type: GgufValueType.ARRAY, elementType: GgufValueType.STRING, value }),
  f32s: (value: ArrayLike<number>): GgufWriteValue => ({ type: GgufValueType.ARRAY, elementType: GgufValueType.FLOAT32, value }),
  i32s: (value: ArrayLike<number>): GgufWriteValue => ({ type: GgufValueType.ARRAY, elementType: GgufValueType.INT32, value }),
};

class ByteWriter {
  private bytes = new Uint8Array(1 << 16);
  private view = new DataView(this.bytes.buffer);
  length = 0;
  private readonly utf8 = new TextEncoder();

  private grow(extra: number): void {
    if (this.length + extra <= this.bytes.byteLength) return;
    let capacity = this.bytes.byteLength * 2;
    while (capacity < this.length + extra) capacity *= 2;
    const next = new Uint8Array(capacity);
    next.set(this.bytes.subarray(0, this.length));
    this.bytes = next;
    this.view = new DataView(next.buffer);
  }

  scalar(type: GgufValueType, value: unknown): void {
    this.grow(8);
    const v = this.view;
    const at = this.length;
    switch (type) {
      case GgufValueType.UINT8: v.setUint8(at, value as number); this.length += 1; break;
      case GgufValueType.INT8: v.setInt8(at, value as number); this.length += 1; break;
      case GgufValueType.UINT16: v.setUint16(at, value as number, true); this.length += 2; break;
      case GgufValueType.INT16: v.setInt16(at, value as number, true); this.length += 2; break;
      case GgufValueType.UINT32: v.setUint32(at, value as number, true); this.length += 4; break;
      case GgufValueType.INT32: v.setInt32(at, value as number, true); this.length += 4; break;
      case GgufValueType.FLOAT32: v.setFloat32(at, value as number, true); this.length += 4; break;
      case GgufValueType.FLOAT64: v.setFloat64(at, value as number, true); this.length += 8; break;
      case GgufValueType.BOOL: v.setUint8(at, value ? 1 : 0); this.length += 1; break;
      case GgufValueType.UINT64: v.setBigUint64(at, BigInt(value as number), true); this.length += 8; break;
      case GgufValueType.INT64: v.setBigInt64(at, BigInt(value as number), true); this.length += 8; break;
      case GgufValueType.STRING: this.string(value as string); break;
      default: throw new Error(`cannot write a scalar of value type ${type}`);
    }
  }

  string(text: string): void {
    const encoded = this.utf8.encode(text);
    this.scalar(GgufValueType.UINT64, encoded.byteLength);
    this.raw(encoded);
  }

  raw(bytes: Uint8Array): void {
    this.grow(bytes.byteLength);
    this.bytes.set(bytes, this.length);
    this.length += bytes.byteLength;
  }

  padTo(alignment: number): void {
    const padded = Math.ceil(this.length / alignment) * alignment;
    this.grow(padded - this.length);
    this.bytes.fill(0, this.length, padded);
    this.length = padded;
  }

  result(): Uint8Array {
    return this.bytes.slice(0, this.length);
  }
}

function tensorBytes(tensor: GgufWriteTensor): Uint8Array {
  const layout = GGML_TYPE_LAYOUT[tensor.type];
  const elements = tensor.dims.reduce((a, b) => a * b, 1);
  if (tensor.dims[0]! % layout.blockElements !== 0) {
    throw new Error(`tensor ${tensor.name}: rows of ${tensor.dims[0]} do not divide into ${ggmlTypeName(tensor.type)} blocks`);
  }
  const expected = (elements / layout.blockElements) * layout.blockBytes;
  const values = typeof tensor.values === "function" ? tensor.values() : tensor.values;
  if (values && values.length !== elements) {
    throw new Error(`tensor ${tensor.name}: ${values.length} values for dims ${tensor.dims.join("×")}`);
  }
  const bytes = tensor.bytes ?? quantize(tensor.type, values ?? new Float32Array(0));
  if (bytes.byteLength !== expected) {
    throw new Error(`tensor ${tensor.name}: ${bytes.byteLength} bytes, expected ${expected}`);
  }
  return bytes;
}

/**
 * Encodes a GGUF file as parts in file order (header, then each tensor's data and padding). Tensors are
 * converted one at a time as the generator is consumed, so a large model never sits in memory whole.
 */
export function* encodeGguf(
  metadata: Record<string, GgufWriteValue>,
  tensors: GgufWriteTensor[],
  alignment = GGUF_DEFAULT_ALIGNMENT,
): Generator<Uint8Array> {
  const header = new ByteWriter();
  header.scalar(GgufValueType.UINT32, GGUF_MAGIC);
  header.scalar(GgufValueType.UINT32, 3);
  header.scalar(GgufValueType.UINT64, tensors.length);
  const entries = Object.entries(metadata);
  if (alignment !== GGUF_DEFAULT_ALIGNMENT && !("general.alignment" in metadata)) {
    entries.push(["general.alignment", meta.u32(alignment)]);
  }
  header.scalar(GgufValueType.UINT64, entries.length);
  for (const [key, entry] of entries) {
    header.string(key);
    header.scalar(GgufValueType.UINT32, entry.type);
    if (entry.type === GgufValueType.ARRAY) {
      header.scalar(GgufValueType.UINT32, entry.elementType);
      header.scalar(GgufValueType.UINT64, entry.value.length);
      for (let i = 0; i < entry.value.length; i++) header.scalar(entry.elementType, entry.value[i]);
    } else {
      header.scalar(entry.type, entry.value);
    }
  }
  let offset = 0;
  const sizes: number[] = [];
  for (const tensor of tensors) {
    const layout = GGML_TYPE_LAYOUT[tensor.type];
    const size = (tensor.dims.reduce((a, b) => a * b, 1) / layout.blockElements) * layout.blockBytes;
    sizes.push(size);
    header.string(tensor.name);
    header.scalar(GgufValueType.UINT32, tensor.dims.length);
    for (const dim of tensor.dims) header.scalar(GgufValueType.UINT64, dim);
    header.scalar(GgufValueType.UINT32, tensor.type);
    header.scalar(GgufValueType.UINT64, offset);
    offset += Math.ceil(size / alignment) * alignment;
  }
  header.padTo(alignment);
  yield header.result();
  for (const [i, tensor] of tensors.entries()) {
    yield tensorBytes(tensor);
    const padding = Math.ceil(sizes[i]! / alignment) * alignment - sizes[i]!;
    if (padding > 0 && i < tensors.length - 1) yield new Uint8Array(padding);
  }
}

/** The whole file in one buffer (small models, tests). */
export function encodeGgufBytes(
  metadata: Record<string, GgufWriteValue>,
  tensors: GgufWriteTensor[],
  alignment = GGUF_DEFAULT_ALIGNMENT,
): Uint8Array {
  return concatBytes([...encodeGguf(metadata, tensors, alignment)]);
}
