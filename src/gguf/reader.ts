// GGUF v2/v3 header reader: metadata, tensor infos, alignment and data offsets, every field bounds-checked.
// Nothing is allocated from a header field before that field is checked against the bytes that remain,
// so a corrupt count ends in a GgufError, not in a huge allocation or a hang. A count or string length that
// no file could hold is a corrupt field (count_too_large, string_too_long); one that only runs past the end
// of this file means it was cut short (truncated, or tensor_out_of_bounds once the header is whole).
//
// File layout (little-endian):
//   u32 magic "GGUF" · u32 version · u64 tensor_count · u64 kv_count
//   kv_count × { string key · u32 value_type · value }
//   tensor_count × { string name · u32 n_dims · u64 dims[n_dims] · u32 ggml_type · u64 offset }
//   padding to `general.alignment` (default 32) · tensor data

import { GgufError } from "./errors.js";
import type { ByteSource } from "./source.js";
import {
  GGML_TYPE_LAYOUT,
  GGUF_DEFAULT_ALIGNMENT,
  GGUF_MAGIC,
  GGUF_VALUE_MIN_BYTES,
  GgufValueType,
  ggmlTypeName,
  isKnownGgmlType,
  type GgufHeader,
  type GgufTensorInfo,
  type GgufValue,
} from "./types.js";

const READ_CHUNK_BYTES = 1 << 20;
const MAX_STRING_BYTES = 1 << 28; // 256 MiB: far above any real key, token or template
const MAX_KEY_BYTES = 1 << 16;
// No GGUF holds 2^32 of anything (tensors, keys, array elements): a larger count is a corrupt field.
// A smaller count that needs more bytes than remain is reported as a cut-short file.
const MAX_PLAUSIBLE_COUNT = 0xffff_ffff;
const MAX_ARRAY_DEPTH = 4;
const MAX_TENSOR_DIMS = 4; // GGML_MAX_DIMS
const MAX_TENSOR_NAME_BYTES = 4096;
const MIN_KV_BYTES = 8 + 4 + 1; // empty key, type, smallest value
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 8 + 4 + 8; // empty name, n_dims, one dim, type, offset

/** Buffered little-endian reads from a ByteSource, with bounds named in every error. */
class HeaderCursor {
  pos = 0;
  private buffer: Uint8Array = new Uint8Array(0);
  private bufferStart = 0;
  private view: DataView = new DataView(new ArrayBuffer(0));
  private readonly utf8 = new TextDecoder("utf-8", { fatal: true });

  constructor(private readonly source: ByteSource) {}

  get remaining(): number {
    return this.source.size - this.pos;
  }

  private async ensure(length: number, what: string): Promise<void> {
    if (length > this.remaining) {
      throw new GgufError(
        "truncated",
        `${this.source.name}: file truncated while reading ${what}: needs ${length} bytes at offset ${this.pos}, ` +
          `but the file ends at ${this.source.size}`,
      );
    }
    const bufferEnd = this.bufferStart + this.buffer.byteLength;
    if (this.pos >= this.bufferStart && this.pos + length <= bufferEnd) return;
    const readLength = Math.min(this.remaining, Math.max(length, READ_CHUNK_BYTES));
    this.buffer = await this.source.read(this.pos, readLength);
    this.bufferStart = this.pos;
    this.view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
  }

  private at(): number {
    return this.pos - this.bufferStart;
  }

  async u32(what: string): Promise<number> {
    await this.ensure(4, what);
    const value = this.view.getUint32(this.at(), true);
    this.pos += 4;
    return value;
  }

  async u64(what: string): Promise<bigint> {
    await this.ensure(8, what);
    const value = this.view.getBigUint64(this.at(), true);
    this.pos += 8;
    return value;
  }

  /**
   * A u64 count of things that take at least unitBytes each and follow it: a count beyond 32 bits is
   * "count_too_large" (a corrupt field); one whose things cannot fit in the bytes that remain is "truncated".
   */
  async count(what: string, unitBytes: number): Promise<number> {
    const at = this.pos;
    const value = await this.u64(what);
    if (value > BigInt(MAX_PLAUSIBLE_COUNT)) {
      throw new GgufError(
        "count_too_large",
        `${this.source.name}: ${what} at offset ${at} is ${value}, more than any GGUF holds ` +
          `(at most ${MAX_PLAUSIBLE_COUNT}): the field is corrupt`,
      );
    }
    const count = Number(value);
    if (count * unitBytes > this.remaining) {
      throw new GgufError(
        "truncated",
        `${this.source.name}: file truncated: ${what} at offset ${at} is ${count}, needing at least ` +
          `${count * unitBytes} bytes (${unitBytes} each), but only ${this.remaining} remain (or the count is corrupt)`,
      );
    }
    return count;
  }

  async bytes(length: number, what: string): Promise<Uint8Array> {
    await this.ensure(length, what);
    const bytes = this.buffer.subarray(this.at(), this.at() + length);
    this.pos += length;
    return bytes;
  }

  /** A u64 length and UTF-8 bytes. A length over maxBytes or over the whole file is "string_too_long". */
  async string(what: string, maxBytes = MAX_STRING_BYTES): Promise<string> {
    const lengthAt = this.pos;
    const declared = await this.u64(`the length of ${what}`);
    if (declared > BigInt(Math.min(maxBytes, this.source.size))) {
      const limit = declared > BigInt(this.source.size)
        ? `longer than the whole file (${this.source.size} bytes)`
        : `over the limit of ${maxBytes} bytes`;
      throw new GgufError(
        "string_too_long",
        `${this.source.name}: ${what} at offset ${lengthAt} declares a length of ${declared} bytes, ${limit}`,
      );
    }
    const length = Number(declared);
    const at = this.pos;
    const bytes = await this.bytes(length, what);
    try {
      return this.utf8.decode(bytes);
    } catch {
      throw new GgufError("bad_utf8", `${this.source.name}: ${what} at offset ${at} is not valid UTF-8`);
    }
  }

  async scalar(type: GgufValueType, what: string): Promise<number | bigint | boolean> {
    const size = GGUF_VALUE_MIN_BYTES[type];
    await this.ensure(size, what);
    const at = this.at();
    const v = this.view;
    this.pos += size;
    switch (type) {
      case GgufValueType.UINT8: return v.getUint8(at);
      case GgufValueType.INT8: return v.getInt8(at);
      case GgufValueType.UINT16: return v.getUint16(at, true);
      case GgufValueType.INT16: return v.getInt16(at, true);
      case GgufValueType.UINT32: return v.getUint32(at, true);
      case GgufValueType.INT32: return v.getInt32(at, true);
      case GgufValueType.FLOAT32: return v.getFloat32(at, true);
      case GgufValueType.FLOAT64: return v.getFloat64(at, true);
      case GgufValueType.BOOL: {
        const byte = v.getUint8(at);
        if (byte > 1) {
          throw new GgufError("bad_metadata", `${this.source.name}: ${what} at offset ${this.pos - size} is a bool stored as ${byte}`);
        }
        return byte === 1;
      }
      case GgufValueType.UINT64: return safeNumber(v.getBigUint64(at, true));
      case GgufValueType.INT64: return safeNumber(v.getBigInt64(at, true));
      default:
        throw new GgufError("unknown_value_type", `${this.source.name}: ${what} has unknown value type ${type}`);
    }
  }
}

function safeNumber(value: bigint): number | bigint {
  return value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(value) : value;
}

function isValueType(type: number): type is GgufValueType {
  return Number.isInteger(type) && type >= 0 && type <= GgufValueType.FLOAT64;
}

/** Numeric arrays are read in one go into typed arrays (copied, so they outlive the read buffer). */
function typedArrayOf(type: GgufValueType, bytes: Uint8Array, count: number): GgufValue {
  const copy = bytes.slice().buffer;
  switch (type) {
    case GgufValueType.UINT8: return new Uint8Array(copy, 0, count);
    case GgufValueType.INT8: return new Int8Array(copy, 0, count);
    case GgufValueType.UINT16: return new Uint16Array(copy, 0, count);
    case GgufValueType.INT16: return new Int16Array(copy, 0, count);
    case GgufValueType.UINT32: return new Uint32Array(copy, 0, count);
    case GgufValueType.INT32: return new Int32Array(copy, 0, count);
    case GgufValueType.FLOAT32: return new Float32Array(copy, 0, count);
    case GgufValueType.FLOAT64: return new Float64Array(copy, 0, count);
    case GgufValueType.UINT64: return new BigUint64Array(copy, 0, count);
    case GgufValueType.INT64: return new BigInt64Array(copy, 0, count);
    default: throw new Error(`not a numeric type: ${type}`);
  }
}

async function readValue(
  cursor: HeaderCursor,
  type: GgufValueType,
  what: string,
  depth: number,
  name: string,
): Promise<{ value: GgufValue; elementType?: GgufValueType }> {
  if (type === GgufValueType.STRING) return { value: await cursor.string(what) };
  if (type !== GgufValueType.ARRAY) return { value: await cursor.scalar(type, what) };
  if (depth >= MAX_ARRAY_DEPTH) {
    throw new GgufError("bad_metadata", `${name}: ${what} nests arrays deeper than ${MAX_ARRAY_DEPTH}`);
  }
  const elementTypeAt = cursor.pos;
  const elementType = await cursor.u32(`element type of ${what}`);
  if (!isValueType(elementType)) {
    throw new GgufError(
      "unknown_value_type",
      `${name}: ${what} has unknown array element type ${elementType} at offset ${elementTypeAt}`,
    );
  }
  const minBytes = GGUF_VALUE_MIN_BYTES[elementType];
  const count = await cursor.count(`the element count of ${what}`, minBytes);
  if (elementType === GgufValueType.STRING) {
    const strings: string[] = new Array(count);
    for (let i = 0; i < count; i++) strings[i] = await cursor.string(`${what}[${i}]`);
    return { value: strings, elementType };
  }
  if (elementType === GgufValueType.BOOL) {
    const bools: boolean[] = new Array(count);
    for (let i = 0; i < count; i++) bools[i] = (await cursor.scalar(elementType, `${what}[${i}]`)) as boolean;
    return { value: bools, elementType };
  }
  if (elementType === GgufValueType.ARRAY) {
    const arrays: GgufValue[] = new Array(count);
    for (let i = 0; i < count; i++) {
      const innerType = GgufValueType.ARRAY;
      arrays[i] = (await readValue(cursor, innerType, `${what}[${i}]`, depth + 1, name)).value;
    }
    return { value: arrays, elementType };
  }
  const bytes = await cursor.bytes(count * minBytes, what);
  return { value: typedArrayOf(elementType, bytes, count), elementType };
}

/** Reads and validates the header of a GGUF file. Tensor data is not read. */
export async function readGgufHeader(source: ByteSource): Promise<GgufHeader> {
  const name = source.name;
  const cursor = new HeaderCursor(source);

  const magic = await cursor.u32("the magic number");
  if (magic !== GGUF_MAGIC) {
    const found = Array.from(new Uint8Array(new Uint32Array([magic]).buffer), (b) => b.toString(16).padStart(2, "0"));
    throw new GgufError("bad_magic", `${name}: not a GGUF file: magic is ${found.join(" ")}, expected 47 47 55 46 ("GGUF")`);
  }
  const version = await cursor.u32("the version");
  if (version !== 2 && version !== 3) {
    const hint = version === 1 ? " (v1 files predate 64-bit counts; re-convert with a current llama.cpp)"
      : version > 0xffff ? " (this looks like a big-endian GGUF, which webkv does not read)" : "";
    throw new GgufError("unsupported_version", `${name}: GGUF version ${version} is not supported (2 and 3 are)${hint}`);
  }
  const tensorCount = await cursor.count("the tensor count", MIN_TENSOR_INFO_BYTES);
  const kvCount = await cursor.count("the metadata count", MIN_KV_BYTES);

  const metadata = new Map<string, GgufValue>();
  const metadataTypes: GgufHeader["metadataTypes"] = new Map();
  for (let i = 0; i < kvCount; i++) {
    const keyAt = cursor.pos;
    const key = await cursor.string(`the key of metadata entry ${i}`, MAX_KEY_BYTES);
    if (metadata.has(key)) {
      throw new GgufError("duplicate_key", `${name}: metadata key "${key}" appears twice (again as entry ${i} at offset ${keyAt})`);
    }
    const typeAt = cursor.pos;
    const type = await cursor.u32(`the value type of "${key}"`);
    if (!isValueType(type)) {
      throw new GgufError("unknown_value_type", `${name}: metadata "${key}" has unknown value type ${type} at offset ${typeAt}`);
    }
    const { value, elementType } = await readValue(cursor, type, `metadata "${key}"`, 0, name);
    metadata.set(key, value);
    metadataTypes.set(key, { type, elementType });
  }

  let alignment = GGUF_DEFAULT_ALIGNMENT;
  if (metadata.has("general.alignment")) {
    const value = metadata.get("general.alignment");
    const type = metadataTypes.get("general.alignment")!.type;
    if (type !== GgufValueType.UINT32 || typeof value !== "number" || value === 0 || (value & (value - 1)) !== 0) {
      throw new GgufError(
        "bad_alignment",
        `${name}: general.alignment must be a u32 power of two, found ${GgufValueType[type]} ${String(value)}`,
      );
    }
    alignment = value;
  }

  const tensors: GgufTensorInfo[] = [];
  const tensorByName = new Map<string, GgufTensorInfo>();
  for (let i = 0; i < tensorCount; i++) {
    const nameAt = cursor.pos;
    const tensorName = await cursor.string(`the name of tensor ${i}`, MAX_TENSOR_NAME_BYTES);
    if (tensorByName.has(tensorName)) {
      throw new GgufError("duplicate_tensor", `${name}: tensor "${tensorName}" appears twice (again as tensor ${i} at offset ${nameAt})`);
    }
    const nDimsAt = cursor.pos;
    const nDims = await cursor.u32(`the dimension count of tensor "${tensorName}"`);
    if (nDims < 1 || nDims > MAX_TENSOR_DIMS) {
      throw new GgufError(
        "bad_tensor_dims",
        `${name}: tensor "${tensorName}" has ${nDims} dimensions at offset ${nDimsAt} (1..${MAX_TENSOR_DIMS} allowed)`,
      );
    }
    const dims: number[] = [];
    let elementCount = 1;
    for (let d = 0; d < nDims; d++) {
      const dimAt = cursor.pos;
      const dim = await cursor.u64(`dimension ${d} of tensor "${tensorName}"`);
      if (dim === 0n || dim > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw new GgufError("bad_tensor_dims", `${name}: tensor "${tensorName}" has dimension ${d} = ${dim} at offset ${dimAt}`);
      }
      dims.push(Number(dim));
      elementCount *= Number(dim);
      if (elementCount > Number.MAX_SAFE_INTEGER) {
        throw new GgufError("bad_tensor_dims", `${name}: tensor "${tensorName}" has too many elements (dims ${dims.join("×")}…)`);
      }
    }
    const typeAt = cursor.pos;
    const type = await cursor.u32(`the type of tensor "${tensorName}"`);
    if (!isKnownGgmlType(type)) {
      throw new GgufError("unknown_tensor_type", `${name}: tensor "${tensorName}" has unknown ggml type ${type} at offset ${typeAt}`);
    }
    const layout = GGML_TYPE_LAYOUT[type];
    if (dims[0]! % layout.blockElements !== 0) {
      throw new GgufError(
        "bad_tensor_dims",
        `${name}: tensor "${tensorName}" rows of ${dims[0]} are not a multiple of ${ggmlTypeName(type)}'s block of ${layout.blockElements}`,
      );
    }
    const offsetAt = cursor.pos;
    const storedOffset = await cursor.u64(`the data offset of tensor "${tensorName}"`);
    // Offsets are checked against the file size once the header is whole (a cut-short file is "truncated"
    // while the header is still being read); one that no file can reach is rejected now.
    if (storedOffset > BigInt(Number.MAX_SAFE_INTEGER)) {
      throw new GgufError(
        "tensor_out_of_bounds",
        `${name}: tensor "${tensorName}" has data offset ${storedOffset} (stored at offset ${offsetAt}), ` +
          `past the end of the ${source.size}-byte file`,
      );
    }
    const relativeOffset = Number(storedOffset);
    if (relativeOffset % alignment !== 0) {
      throw new GgufError(
        "tensor_misaligned",
        `${name}: tensor "${tensorName}" data offset ${relativeOffset} (stored at offset ${offsetAt}) ` +
          `is not a multiple of the alignment ${alignment}`,
      );
    }
    const info: GgufTensorInfo = {
      name: tensorName,
      dims,
      type,
      relativeOffset,
      offset: 0,
      byteLength: (elementCount / layout.blockElements) * layout.blockBytes,
      elementCount,
    };
    tensors.push(info);
    tensorByName.set(tensorName, info);
  }

  const dataOffset = Math.ceil(cursor.pos / alignment) * alignment;
  for (const tensor of tensors) {
    tensor.offset = dataOffset + tensor.relativeOffset;
    const end = tensor.offset + tensor.byteLength;
    if (end > source.size) {
      throw new GgufError(
        "tensor_out_of_bounds",
        `${name}: tensor "${tensor.name}" (${ggmlTypeName(tensor.type)} ${tensor.dims.join("×")}) occupies bytes ` +
          `${tensor.offset}..${end} but the file has ${source.size} bytes (truncated file, or a corrupt offset or shape)`,
      );
    }
  }
  const byOffset = [...tensors].sort((a, b) => a.offset - b.offset);
  for (let i = 1; i < byOffset.length; i++) {
    const previous = byOffset[i - 1]!;
    const current = byOffset[i]!;
    if (current.offset < previous.offset + previous.byteLength) {
      throw new GgufError(
        "tensor_overlap",
        `${name}: tensors "${previous.name}" and "${current.name}" overlap at bytes ${current.offset}..${previous.offset + previous.byteLength}`,
      );
    }
  }

  return { version, metadata, metadataTypes, tensors, tensorByName, alignment, dataOffset, fileSize: source.size };
}

/** The raw bytes of one tensor, as stored. A tensor that does not lie inside the source is tensor_out_of_bounds. */
export async function readTensorBytes(source: ByteSource, tensor: GgufTensorInfo): Promise<Uint8Array> {
  const { offset, byteLength } = tensor;
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(byteLength) || offset < 0 || byteLength < 0 ||
      offset + byteLength > source.size) {
    throw new GgufError(
      "tensor_out_of_bounds",
      `${source.name}: tensor "${tensor.name}" occupies bytes ${offset}..${offset + byteLength} ` +
        `but the file has ${source.size} bytes (truncated file, or a header from another file)`,
    );
  }
  return source.read(offset, byteLength);
}
