// Malformed GGUF files made from the bytes of a valid one, each paired with the GgufError code the reader
// must answer with. Browser-safe and pure (no node: imports, the input is never modified), so the same cases
// can run in Node and in a page.
//
// Fields are located with a small header walker written here, independently of src/gguf/reader.ts: a case
// corrupts exactly one field of a file that is otherwise valid, so the error it gets names that field.

import type { GgufErrorCode } from "../../src/gguf/errors.js";
import { GGML_TYPE_LAYOUT, GgmlType, GgufValueType, isKnownGgmlType } from "../../src/gguf/types.js";
import { encodeGgufBytes, meta } from "../../src/gguf/writer.js";
import { concatBytes as concatAll } from "../../src/util/concat.js";

export interface MalformedCase {
  name: string;
  bytes: Uint8Array;
  expectedCode: GgufErrorCode;
  /** A piece of text the error message must contain: the field, key, tensor or offset at fault. */
  messageIncludes?: string;
}

// ---------------------------------------------------------------------------------------------------------
// Header walker: where every field of a valid GGUF v2/v3 header lies.

export interface MetadataEntryLayout {
  key: string;
  /** Offset of the key's u64 length. */
  start: number;
  /** Offset of the key's first text byte. */
  keyTextAt: number;
  /** Offset of the u32 value type. */
  typeAt: number;
  type: number;
  /** Offset of the value (for a string: its u64 length; for an array: its u32 element type). */
  valueAt: number;
  /** Offset just past the entry. */
  end: number;
}

export interface TensorInfoLayout {
  name: string;
  /** Offset of the name's u64 length. */
  start: number;
  nameTextAt: number;
  nDimsAt: number;
  /** Offset of each u64 dimension. */
  dimAt: number[];
  dims: number[];
  typeAt: number;
  type: number;
  /** Offset of the u64 data offset (relative to the data section). */
  dataOffsetAt: number;
  relativeOffset: number;
  byteLength: number;
  end: number;
}

export interface GgufLayout {
  version: number;
  metadata: MetadataEntryLayout[];
  tensors: TensorInfoLayout[];
  /** Offset just past the last tensor info: everything before it is header. */
  tensorInfosEnd: number;
  alignment: number;
  /** Absolute offset of the tensor data section. */
  dataStart: number;
  fileSize: number;
}

export const TENSOR_COUNT_AT = 8;
export const METADATA_COUNT_AT = 16;
const FIRST_ENTRY_AT = 24;

/** Bytes of each fixed-size metadata value type (strings and arrays are walked). */
const SCALAR_BYTES: Partial<Record<number, number>> = {
  [GgufValueType.UINT8]: 1,
  [GgufValueType.INT8]: 1,
  [GgufValueType.UINT16]: 2,
  [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4,
  [GgufValueType.INT32]: 4,
  [GgufValueType.FLOAT32]: 4,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.UINT64]: 8,
  [GgufValueType.INT64]: 8,
  [GgufValueType.FLOAT64]: 8,
};

/** Walks the header of a file known to be valid; throws a plain Error on anything unexpected. */
export function walkGgufLayout(bytes: Uint8Array): GgufLayout {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const text = new TextDecoder();
  const u32 = (at: number) => view.getUint32(at, true);
  const u64 = (at: number) => Number(view.getBigUint64(at, true));
  const stringEnd = (at: number) => at + 8 + u64(at);
  const stringText = (at: number) => text.decode(bytes.subarray(at + 8, stringEnd(at)));

  const valueEnd = (type: number, at: number): number => {
    const scalarBytes = SCALAR_BYTES[type];
    if (scalarBytes !== undefined) return at + scalarBytes;
    if (type === GgufValueType.STRING) return stringEnd(at);
    if (type !== GgufValueType.ARRAY) throw new Error(`walker: unknown value type ${type} at ${at}`);
    const elementType = u32(at);
    const count = u64(at + 4);
    const elementBytes = SCALAR_BYTES[elementType];
    if (elementBytes !== undefined) return at + 12 + count * elementBytes;
    let end = at + 12;
    for (let i = 0; i < count; i++) end = valueEnd(elementType, end);
    return end;
  };

  if (text.decode(bytes.subarray(0, 4)) !== "GGUF") throw new Error("walker: not a GGUF file");
  const version = u32(4);
  const tensorCount = u64(TENSOR_COUNT_AT);
  const metadataCount = u64(METADATA_COUNT_AT);

  let at = FIRST_ENTRY_AT;
  let alignment = 32;
  const metadata: MetadataEntryLayout[] = [];
  for (let i = 0; i < metadataCount; i++) {
    const start = at;
    const typeAt = stringEnd(start);
    const type = u32(typeAt);
    const valueAt = typeAt + 4;
    const entry = { key: stringText(start), start, keyTextAt: start + 8, typeAt, type, valueAt, end: valueEnd(type, valueAt) };
    if (entry.key === "general.alignment" && type === GgufValueType.UINT32) alignment = u32(valueAt);
    metadata.push(entry);
    at = entry.end;
  }

  const tensors: TensorInfoLayout[] = [];
  for (let i = 0; i < tensorCount; i++) {
    const start = at;
    const nDimsAt = stringEnd(start);
    const nDims = u32(nDimsAt);
    const dimAt = Array.from({ length: nDims }, (_, d) => nDimsAt + 4 + 8 * d);
    const dims = dimAt.map(u64);
    const typeAt = nDimsAt + 4 + 8 * nDims;
    const type = u32(typeAt);
    if (!isKnownGgmlType(type)) throw new Error(`walker: unknown ggml type ${type} at ${typeAt}`);
    const layout = GGML_TYPE_LAYOUT[type];
    const elementCount = dims.reduce((product, dim) => product * dim, 1);
    tensors.push({
      name: stringText(start),
      start,
      nameTextAt: start + 8,
      nDimsAt,
      dimAt,
      dims,
      typeAt,
      type,
      dataOffsetAt: typeAt + 4,
      relativeOffset: u64(typeAt + 4),
      byteLength: (elementCount / layout.blockElements) * layout.blockBytes,
      end: typeAt + 12,
    });
    at = typeAt + 12;
  }

  return {
    version,
    metadata,
    tensors,
    tensorInfosEnd: at,
    alignment,
    dataStart: alignUp(at, alignment),
    fileSize: bytes.byteLength,
  };
}

// ---------------------------------------------------------------------------------------------------------
// Byte building and editing. Every edit works on a copy.

function alignUp(value: number, alignment: number): number {
  return Math.ceil(value / alignment) * alignment;
}

export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  return concatAll(parts);
}

export function u32Bytes(value: number): Uint8Array {
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, value, true);
  return out;
}

export function u64Bytes(value: number | bigint): Uint8Array {
  const out = new Uint8Array(8);
  new DataView(out.buffer).setBigUint64(0, BigInt(value), true);
  return out;
}

/** A GGUF string: u64 byte length, then the bytes (raw bytes allowed, to make invalid UTF-8). */
export function ggufStringBytes(value: string | Uint8Array): Uint8Array {
  const textBytes = typeof value === "string" ? new TextEncoder().encode(value) : value;
  return concatBytes(u64Bytes(textBytes.byteLength), textBytes);
}

/** One metadata entry: key, u32 value type, then the value's bytes exactly as given. */
export function metadataEntryBytes(key: string, type: number, valueBytes: Uint8Array): Uint8Array {
  return concatBytes(ggufStringBytes(key), u32Bytes(type), valueBytes);
}

function withU32(valid: Uint8Array, at: number, value: number): Uint8Array {
  const copy = valid.slice();
  new DataView(copy.buffer).setUint32(at, value, true);
  return copy;
}

function withU64(valid: Uint8Array, at: number, value: number | bigint): Uint8Array {
  const copy = valid.slice();
  new DataView(copy.buffer).setBigUint64(at, BigInt(value), true);
  return copy;
}

function withBytes(valid: Uint8Array, at: number, replacement: ArrayLike<number>): Uint8Array {
  const copy = valid.slice();
  copy.set(replacement, at);
  return copy;
}

/**
 * The file with one more metadata entry after the last one: the metadata count is raised, the header is
 * padded again to `alignment`, and the tensor data follows unchanged (tensor offsets are relative to it).
 */
export function withExtraMetadataEntry(
  valid: Uint8Array,
  layout: GgufLayout,
  entry: Uint8Array,
  alignment = layout.alignment,
): Uint8Array {
  const metadataEnd = layout.metadata.at(-1)?.end ?? FIRST_ENTRY_AT;
  const headerLength = layout.tensorInfosEnd + entry.byteLength;
  const dataStart = alignUp(headerLength, alignment);
  const data = valid.subarray(layout.dataStart);
  const out = new Uint8Array(dataStart + data.byteLength);
  out.set(valid.subarray(0, metadataEnd), 0);
  out.set(entry, metadataEnd);
  out.set(valid.subarray(metadataEnd, layout.tensorInfosEnd), metadataEnd + entry.byteLength);
  out.set(data, dataStart);
  new DataView(out.buffer).setBigUint64(METADATA_COUNT_AT, BigInt(layout.metadata.length + 1), true);
  return out;
}

// ---------------------------------------------------------------------------------------------------------
// The cases.

function entryNamed(layout: GgufLayout, key: string): MetadataEntryLayout {
  const entry = layout.metadata.find((candidate) => candidate.key === key);
  if (!entry) throw new Error(`malformed-cases: the valid file has no metadata "${key}"`);
  return entry;
}

function entryOfType(layout: GgufLayout, type: GgufValueType): MetadataEntryLayout {
  const entry = layout.metadata.find((candidate) => candidate.type === type);
  if (!entry) throw new Error(`malformed-cases: the valid file has no metadata of type ${GgufValueType[type]}`);
  return entry;
}

/** The file the reader should reject because tensor rows do not fill whole quantization blocks. */
function quantizedFile(): Uint8Array {
  return encodeGgufBytes({ "general.architecture": meta.str("blocktest") }, [
    { name: "q8.weight", dims: [32, 2], type: GgmlType.Q8_0, values: new Float32Array(64).fill(0.5) },
    { name: "q4.weight", dims: [64, 1], type: GgmlType.Q4_0, values: new Float32Array(64).fill(-0.25) },
  ]);
}

/**
 * Malformed variants of `valid` (the bytes of a well-formed GGUF v2/v3 file with at least three tensors,
 * a string array such as tokenizer.ggml.tokens, a u32 and a string metadata value; stories260K.gguf fits).
 */
export function malformedCases(valid: Uint8Array): MalformedCase[] {
  const layout = walkGgufLayout(valid);
  const cases: MalformedCase[] = [];
  const add = (name: string, bytes: Uint8Array, expectedCode: GgufErrorCode, messageIncludes?: string) =>
    cases.push({ name, bytes, expectedCode, messageIncludes });

  const firstEntry = layout.metadata[0]!;
  const stringEntry = entryOfType(layout, GgufValueType.STRING);
  const u32Entry = entryOfType(layout, GgufValueType.UINT32);
  const arrayEntry = entryOfType(layout, GgufValueType.ARRAY);
  const validView = new DataView(valid.buffer, valid.byteOffset, valid.byteLength);
  const elementTypeOf = (entry: MetadataEntryLayout) => validView.getUint32(entry.valueAt, true);
  const stringArray = layout.metadata.find(
    (entry) => entry.type === GgufValueType.ARRAY && elementTypeOf(entry) === GgufValueType.STRING,
  );
  if (!stringArray) throw new Error("malformed-cases: the valid file has no string array");
  const numericArray = layout.metadata.find(
    (entry) => entry.type === GgufValueType.ARRAY && entry !== stringArray,
  ) ?? arrayEntry;
  if (layout.tensors.length < 3) throw new Error("malformed-cases: the valid file needs at least three tensors");
  const [tensor0, tensor1, tensor2] = layout.tensors as [TensorInfoLayout, TensorInfoLayout, TensorInfoLayout];
  const lastTensor = layout.tensors.at(-1)!;
  const middleTensor = layout.tensors[Math.floor(layout.tensors.length / 2)]!;

  // Truncation. A file cut anywhere before the end of the tensor infos fails while reading the header
  // ("truncated"); a file whose header is whole but whose data is cut short has tensors that reach past the
  // end ("tensor_out_of_bounds", naming the first such tensor in header order).
  const cutOffsets = new Map<number, string>([
    [0, "an empty file"],
    [2, "inside the magic"],
    [4, "right after the magic"],
    [6, "inside the version"],
    [12, "inside the tensor count"],
    [20, "inside the metadata count"],
    [FIRST_ENTRY_AT, "right after the counts"],
    [firstEntry.start + 3, "inside the first key's length"],
    [firstEntry.keyTextAt + 5, "inside the first key"],
    [firstEntry.typeAt + 2, "inside the first value type"],
    [stringArray.valueAt + 6, `inside the element count of ${stringArray.key}`],
    [Math.floor((stringArray.valueAt + stringArray.end) / 2), `in the middle of ${stringArray.key}`],
    [stringArray.end - 1, `in the last byte of ${stringArray.key}`],
    [Math.floor((numericArray.valueAt + numericArray.end) / 2) + 1, `in the middle of ${numericArray.key}`],
    [u32Entry.valueAt + 2, `inside the value of ${u32Entry.key}`],
    [stringEntry.valueAt + 9, `inside the text of ${stringEntry.key}`],
    [layout.metadata.at(-1)!.end - 1, "in the last byte of the metadata"],
    [tensor0.start + 4, "inside the first tensor name's length"],
    [tensor0.nameTextAt + 3, "inside the first tensor name"],
    [tensor0.nDimsAt + 1, "inside the first tensor's dimension count"],
    [middleTensor.dimAt[0]! + 5, `inside a dimension of ${middleTensor.name}`],
    [middleTensor.typeAt + 3, `inside the type of ${middleTensor.name}`],
    [lastTensor.dataOffsetAt + 4, "inside the last tensor's data offset"],
    [layout.tensorInfosEnd - 1, "one byte before the end of the tensor infos"],
    [layout.tensorInfosEnd, "exactly at the end of the tensor infos"],
    [Math.floor((layout.tensorInfosEnd + layout.dataStart) / 2), "in the padding before the data"],
    [layout.dataStart, "at the start of the tensor data"],
    [layout.dataStart + 1000, "1000 bytes into the tensor data"],
    [Math.floor((layout.dataStart + layout.fileSize) / 2), "in the middle of the tensor data"],
    [layout.fileSize - 1, "one byte short of the end"],
  ]);
  for (const [cutAt, where] of cutOffsets) {
    const name = `truncated at ${cutAt} (${where})`;
    const bytes = valid.subarray(0, cutAt);
    if (cutAt < layout.tensorInfosEnd) {
      add(name, bytes, "truncated", "truncated");
    } else {
      const firstCut = layout.tensors.find((tensor) => layout.dataStart + tensor.relativeOffset + tensor.byteLength > cutAt);
      add(name, bytes, "tensor_out_of_bounds", `"${firstCut!.name}"`);
    }
  }

  // Identity: only a GGUF magic and versions 2 and 3 are accepted; a version with its bytes swapped is
  // called out as a big-endian file.
  add("bad magic GGML", withBytes(valid, 0, [0x47, 0x47, 0x4d, 0x4c]), "bad_magic", "magic");
  add("bad magic zeros", withBytes(valid, 0, [0, 0, 0, 0]), "bad_magic", "magic");
  add("version 1", withU32(valid, 4, 1), "unsupported_version", "version 1");
  add("version 4", withU32(valid, 4, 4), "unsupported_version", "version 4");
  add("version 0", withU32(valid, 4, 0), "unsupported_version", "version 0");
  add("big-endian version 3", withBytes(valid, 4, [0, 0, 0, 3]), "unsupported_version", "big-endian");

  // Counts. A count no GGUF could hold (beyond 32 bits) is a corrupt field: "count_too_large", decided
  // before anything is allocated or looped over. A count that is plausible but needs more bytes than remain
  // reads as a cut-short file: "truncated", naming the count.
  add("tensor count 2^40", withU64(valid, TENSOR_COUNT_AT, 2n ** 40n), "count_too_large", "tensor count");
  add("tensor count 2^63", withU64(valid, TENSOR_COUNT_AT, 2n ** 63n), "count_too_large", "tensor count");
  add("tensor count 2^64-1", withU64(valid, TENSOR_COUNT_AT, 2n ** 64n - 1n), "count_too_large", "tensor count");
  add("metadata count 2^40", withU64(valid, METADATA_COUNT_AT, 2n ** 40n), "count_too_large", "metadata count");
  add("metadata count 2^63", withU64(valid, METADATA_COUNT_AT, 2n ** 63n), "count_too_large", "metadata count");
  add(`array count 2^50 in ${stringArray.key}`, withU64(valid, stringArray.valueAt + 4, 2n ** 50n), "count_too_large", stringArray.key);
  add(`array count 2^50 in ${numericArray.key}`, withU64(valid, numericArray.valueAt + 4, 2n ** 50n), "count_too_large", numericArray.key);
  add("tensor count 2^20 (plausible, but past the end)", withU64(valid, TENSOR_COUNT_AT, 2 ** 20), "truncated", "tensor count");
  add(`array count of ${stringArray.key} past the end`, withU64(valid, stringArray.valueAt + 4, valid.byteLength), "truncated", stringArray.key);
  add(
    "nested array count 2^50",
    withExtraMetadataEntry(valid, layout, metadataEntryBytes("test.nested", GgufValueType.ARRAY,
      concatBytes(u32Bytes(GgufValueType.ARRAY), u64Bytes(1), u32Bytes(GgufValueType.UINT8), u64Bytes(2n ** 50n)))),
    "count_too_large",
    "test.nested",
  );

  // String lengths. Longer than the whole file, or than the limit for what it names (keys, tensor names):
  // "string_too_long". Shorter than the file but past its end: "truncated".
  add("key length larger than the file", withU64(valid, firstEntry.start, valid.byteLength + 1), "string_too_long", "key of metadata entry 0");
  add("key length 2^63", withU64(valid, firstEntry.start, 2n ** 63n), "string_too_long", "key of metadata entry 0");
  add(`string value length 2^40 in ${stringEntry.key}`, withU64(valid, stringEntry.valueAt, 2n ** 40n), "string_too_long", stringEntry.key);
  add(`string value length larger than the file in ${stringEntry.key}`, withU64(valid, stringEntry.valueAt, valid.byteLength + 1), "string_too_long", stringEntry.key);
  add(`array element length 2^40 in ${stringArray.key}`, withU64(valid, stringArray.valueAt + 12, 2n ** 40n), "string_too_long", `${stringArray.key}"[0]`);
  add(
    `string value length just past the end in ${stringEntry.key}`,
    withU64(valid, stringEntry.valueAt, valid.byteLength - (stringEntry.valueAt + 8) + 1),
    "truncated",
    stringEntry.key,
  );
  add("tensor name length 5000 (over the tensor-name limit)", withU64(valid, tensor1.start, 5000), "string_too_long", "name of tensor 1");

  // Value types. Every metadata value type and array element type must be one GGUF defines; a bool is 0 or 1;
  // arrays nest only so deep.
  add(`value type 13 for ${u32Entry.key}`, withU32(valid, u32Entry.typeAt, 13), "unknown_value_type", u32Entry.key);
  add(`value type 2^32-1 for ${firstEntry.key}`, withU32(valid, firstEntry.typeAt, 0xffffffff), "unknown_value_type", firstEntry.key);
  add(`array element type 13 in ${stringArray.key}`, withU32(valid, stringArray.valueAt, 13), "unknown_value_type", stringArray.key);
  add(
    "bool stored as 2",
    withExtraMetadataEntry(valid, layout, metadataEntryBytes("test.flag", GgufValueType.BOOL, new Uint8Array([2]))),
    "bad_metadata",
    "test.flag",
  );
  let deepArray = concatBytes(u32Bytes(GgufValueType.UINT8), u64Bytes(1), new Uint8Array([7]));
  for (let depth = 0; depth < 5; depth++) deepArray = concatBytes(u32Bytes(GgufValueType.ARRAY), u64Bytes(1), deepArray);
  add(
    "arrays nested six deep",
    withExtraMetadataEntry(valid, layout, metadataEntryBytes("test.deep", GgufValueType.ARRAY, deepArray)),
    "bad_metadata",
    "test.deep",
  );

  // Text. Keys, string values and tensor names must be valid UTF-8: a stray continuation byte, a sequence
  // cut short, and an overlong encoding are all rejected, naming where the text starts.
  add("invalid UTF-8 (0xff) in a key", withBytes(valid, firstEntry.keyTextAt + 2, [0xff]), "bad_utf8", `offset ${firstEntry.keyTextAt}`);
  add("overlong UTF-8 in a key", withBytes(valid, firstEntry.keyTextAt + 2, [0xc0, 0x80]), "bad_utf8", "key of metadata entry 0");
  add(
    "UTF-8 sequence cut short at the end of a key",
    withBytes(valid, firstEntry.typeAt - 2, [0xe2, 0x82]),
    "bad_utf8",
    "key of metadata entry 0",
  );
  add(`invalid UTF-8 in the value of ${stringEntry.key}`, withBytes(valid, stringEntry.valueAt + 8, [0x80]), "bad_utf8", stringEntry.key);
  add(`invalid UTF-8 in ${stringArray.key}[0]`, withBytes(valid, stringArray.valueAt + 12 + 8, [0xfe]), "bad_utf8", `${stringArray.key}"[0]`);
  add("invalid UTF-8 in a tensor name", withBytes(valid, tensor2.nameTextAt, [0xff]), "bad_utf8", "name of tensor 2");

  // Duplicates. A key or a tensor name may appear only once; the copy is made by rewriting a later name
  // into an earlier one of the same length, so nothing else moves.
  const [keyA, keyB] = sameLengthPair(layout.metadata.map((entry) => entry.key));
  const laterKey = entryNamed(layout, keyB);
  add(`duplicate metadata key "${keyA}"`, withBytes(valid, laterKey.keyTextAt, new TextEncoder().encode(keyA)), "duplicate_key", `"${keyA}"`);
  const [tensorA, tensorB] = sameLengthPair(layout.tensors.map((tensor) => tensor.name));
  const laterTensor = layout.tensors.find((tensor) => tensor.name === tensorB)!;
  add(`duplicate tensor "${tensorA}"`, withBytes(valid, laterTensor.nameTextAt, new TextEncoder().encode(tensorA)), "duplicate_tensor", `"${tensorA}"`);

  // general.alignment must be a u32 power of two; anything else is "bad_alignment" before a tensor is placed.
  const alignmentEntry = (type: GgufValueType, value: Uint8Array) =>
    withExtraMetadataEntry(valid, layout, metadataEntryBytes("general.alignment", type, value));
  add("alignment 0", alignmentEntry(GgufValueType.UINT32, u32Bytes(0)), "bad_alignment", "general.alignment");
  add("alignment 48 (not a power of two)", alignmentEntry(GgufValueType.UINT32, u32Bytes(48)), "bad_alignment", "general.alignment");
  add("alignment 2^32-1", alignmentEntry(GgufValueType.UINT32, u32Bytes(0xffffffff)), "bad_alignment", "general.alignment");
  add("alignment stored as u64", alignmentEntry(GgufValueType.UINT64, u64Bytes(32)), "bad_alignment", "general.alignment");
  add("alignment stored as i32", alignmentEntry(GgufValueType.INT32, u32Bytes(32)), "bad_alignment", "general.alignment");
  add("alignment stored as a string", alignmentEntry(GgufValueType.STRING, ggufStringBytes("32")), "bad_alignment", "general.alignment");

  // Tensor types: only types ggml defines, which excludes the removed Q4_2 (4) and Q4_3 (5) and the gaps 31..33.
  for (const type of [99, 4, 5, 31, 0xffffffff]) {
    add(`ggml type ${type} for ${tensor1.name}`, withU32(valid, tensor1.typeAt, type), "unknown_tensor_type", `"${tensor1.name}"`);
  }

  // Tensor shapes: 1..4 dimensions, each at least 1, and an element count a JS number holds exactly.
  add("n_dims 0", withU32(valid, tensor0.nDimsAt, 0), "bad_tensor_dims", `"${tensor0.name}"`);
  add("n_dims 5", withU32(valid, tensor0.nDimsAt, 5), "bad_tensor_dims", `"${tensor0.name}"`);
  add("n_dims 2^32-1", withU32(valid, tensor0.nDimsAt, 0xffffffff), "bad_tensor_dims", `"${tensor0.name}"`);
  add("dimension 0", withU64(valid, tensor0.dimAt[0]!, 0), "bad_tensor_dims", `"${tensor0.name}"`);
  add("dimension 2^60", withU64(valid, tensor0.dimAt[0]!, 2n ** 60n), "bad_tensor_dims", `"${tensor0.name}"`);
  add("dimension 2^64-1", withU64(valid, tensor0.dimAt[0]!, 2n ** 64n - 1n), "bad_tensor_dims", `"${tensor0.name}"`);
  const twoDimTensor = layout.tensors.find((tensor) => tensor.dims.length >= 2);
  if (twoDimTensor) {
    const overflowing = withU64(withU64(valid, twoDimTensor.dimAt[0]!, 2n ** 30n), twoDimTensor.dimAt[1]!, 2n ** 30n);
    add("element count 2^60 across two dims", overflowing, "bad_tensor_dims", `"${twoDimTensor.name}"`);
    const justOver = withU64(withU64(valid, twoDimTensor.dimAt[0]!, 2n ** 27n), twoDimTensor.dimAt[1]!, 2n ** 26n + 1n);
    add("element count just over 2^53 across two dims", justOver, "bad_tensor_dims", `"${twoDimTensor.name}"`);
    const hugeButCountable = withU64(valid, twoDimTensor.dimAt[1]!, 2n ** 30n);
    add("shape too big for the file", hugeButCountable, "tensor_out_of_bounds", `"${twoDimTensor.name}"`);
  }

  // Quantized rows must fill whole blocks (32 elements for Q8_0 and Q4_0). Built with the writer, then the
  // row length is changed with the element count kept, so only the block rule is broken.
  const quantized = quantizedFile();
  const quantizedLayout = walkGgufLayout(quantized);
  const [q8, q4] = quantizedLayout.tensors as [TensorInfoLayout, TensorInfoLayout];
  add("Q8_0 rows of 16", withU64(withU64(quantized, q8.dimAt[0]!, 16), q8.dimAt[1]!, 4), "bad_tensor_dims", "Q8_0");
  add("Q4_0 rows of 8", withU64(withU64(quantized, q4.dimAt[0]!, 8), q4.dimAt[1]!, 8), "bad_tensor_dims", `"${q4.name}"`);
  add("Q8_0 rows of 33", withU64(quantized, q8.dimAt[0]!, 33), "bad_tensor_dims", `"${q8.name}"`);

  // Tensor placement: data offsets are multiples of the alignment, every tensor ends inside the file, and no
  // two tensors share bytes.
  add(`${tensor1.name} offset off by 16`, withU64(valid, tensor1.dataOffsetAt, tensor1.relativeOffset + 16), "tensor_misaligned", `"${tensor1.name}"`);
  add(`${tensor1.name} offset off by 1`, withU64(valid, tensor1.dataOffsetAt, tensor1.relativeOffset + 1), "tensor_misaligned", `"${tensor1.name}"`);
  const pastTheEnd = alignUp(valid.byteLength, layout.alignment);
  add(`${tensor1.name} offset past the end`, withU64(valid, tensor1.dataOffsetAt, pastTheEnd), "tensor_out_of_bounds", `"${tensor1.name}"`);
  add(`${tensor1.name} offset 2^62`, withU64(valid, tensor1.dataOffsetAt, 2n ** 62n), "tensor_out_of_bounds", `"${tensor1.name}"`);
  add(`${lastTensor.name} ends one block past the end`, withU64(valid, lastTensor.dataOffsetAt, lastTensor.relativeOffset + layout.alignment), "tensor_out_of_bounds", `"${lastTensor.name}"`);
  add(`${tensor1.name} at the same offset as ${tensor0.name}`, withU64(valid, tensor1.dataOffsetAt, tensor0.relativeOffset), "tensor_overlap", `"${tensor1.name}"`);
  const inside = tensor0.relativeOffset + layout.alignment;
  add(`${tensor2.name} starting inside ${tensor0.name}`, withU64(valid, tensor2.dataOffsetAt, inside), "tensor_overlap", `"${tensor2.name}"`);

  return cases;
}

/** Two different names of equal length, the second appearing later; throws when there are none. */
function sameLengthPair(names: string[]): [string, string] {
  for (let later = 1; later < names.length; later++) {
    const earlier = names.slice(0, later).find((name) => name.length === names[later]!.length && name !== names[later]);
    if (earlier !== undefined) return [earlier, names[later]!];
  }
  throw new Error("malformed-cases: no two names of equal length to make a duplicate from");
}

// ---------------------------------------------------------------------------------------------------------
// Random corruption: no expected code, only the promise that the reader answers with a GgufError or a header.

/** A small deterministic PRNG (mulberry32), so every run corrupts the same bytes. */
function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `count` corruptions of the header of `valid`: one byte, or one u32/u64 written at any offset, set to a
 * random or a boundary value. The yielded buffer is reused (restored between yields), so use it before
 * asking for the next one.
 */
export function* headerCorruptions(valid: Uint8Array, count: number, seed = 1): Generator<{ name: string; bytes: Uint8Array }> {
  const { tensorInfosEnd } = walkGgufLayout(valid);
  const random = seededRandom(seed);
  const working = valid.slice();
  const view = new DataView(working.buffer);
  const boundaryValues = [0n, 1n, 0x7fn, 0x80n, 0xffn, 0xffffffffn, 2n ** 32n, 2n ** 53n, 2n ** 63n, 2n ** 64n - 1n];
  for (let i = 0; i < count; i++) {
    const width = [1, 4, 8][Math.floor(random() * 3)]!;
    const at = Math.floor(random() * (tensorInfosEnd - width + 1));
    const value = random() < 0.5
      ? boundaryValues[Math.floor(random() * boundaryValues.length)]!
      : BigInt(Math.floor(random() * 2 ** 32)) * BigInt(Math.floor(random() * 2 ** 32));
    if (width === 1) view.setUint8(at, Number(value & 0xffn));
    else if (width === 4) view.setUint32(at, Number(value & 0xffffffffn), true);
    else view.setBigUint64(at, value & (2n ** 64n - 1n), true);
    yield { name: `#${i}: u${width * 8} ${value & (2n ** BigInt(width * 8) - 1n)} at ${at}`, bytes: working };
    working.set(valid.subarray(at, at + width), at);
  }
}
