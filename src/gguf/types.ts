// GGUF's vocabulary: metadata value types and ggml tensor types with their block layouts.
// Numbers are ggml's own (ggml.h, gguf.h); the block sizes are what a reader needs to bound every tensor
// even when webkv cannot compute with its type.

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as a little-endian u32
export const GGUF_DEFAULT_ALIGNMENT = 32;

export enum GgufValueType {
  UINT8 = 0,
  INT8 = 1,
  UINT16 = 2,
  INT16 = 3,
  UINT32 = 4,
  INT32 = 5,
  FLOAT32 = 6,
  BOOL = 7,
  STRING = 8,
  ARRAY = 9,
  UINT64 = 10,
  INT64 = 11,
  FLOAT64 = 12,
}

/** Bytes of one scalar of a metadata type (strings and arrays are variable: their minimum is given). */
export const GGUF_VALUE_MIN_BYTES: Record<GgufValueType, number> = {
  [GgufValueType.UINT8]: 1,
  [GgufValueType.INT8]: 1,
  [GgufValueType.UINT16]: 2,
  [GgufValueType.INT16]: 2,
  [GgufValueType.UINT32]: 4,
  [GgufValueType.INT32]: 4,
  [GgufValueType.FLOAT32]: 4,
  [GgufValueType.BOOL]: 1,
  [GgufValueType.STRING]: 8, // u64 length, then bytes
  [GgufValueType.ARRAY]: 12, // u32 element type + u64 count
  [GgufValueType.UINT64]: 8,
  [GgufValueType.INT64]: 8,
  [GgufValueType.FLOAT64]: 8,
};

export type GgufTypedArray =
  | Uint8Array
  | Int8Array
  | Uint16Array
  | Int16Array
  | Uint32Array
  | Int32Array
  | Float32Array
  | Float64Array
  | BigUint64Array
  | BigInt64Array;

/** A metadata value: numeric arrays come back as typed arrays, string arrays as string[]. */
export type GgufValue = number | bigint | boolean | string | GgufTypedArray | string[] | boolean[] | GgufValue[];

export enum GgmlType {
  F32 = 0,
  F16 = 1,
  Q4_0 = 2,
  Q4_1 = 3,
  Q5_0 = 6,
  Q5_1 = 7,
  Q8_0 = 8,
  Q8_1 = 9,
  Q2_K = 10,
  Q3_K = 11,
  Q4_K = 12,
  Q5_K = 13,
  Q6_K = 14,
  Q8_K = 15,
  IQ2_XXS = 16,
  IQ2_XS = 17,
  IQ3_XXS = 18,
  IQ1_S = 19,
  IQ4_NL = 20,
  IQ3_S = 21,
  IQ2_S = 22,
  IQ4_XS = 23,
  I8 = 24,
  I16 = 25,
  I32 = 26,
  I64 = 27,
  F64 = 28,
  IQ1_M = 29,
  BF16 = 30,
  TQ1_0 = 34,
  TQ2_0 = 35,
  MXFP4 = 39,
}

export interface GgmlTypeLayout {
  /** Elements per block. */
  blockElements: number;
  /** Bytes per block. */
  blockBytes: number;
}

/** Block layouts of every type ggml defines today (ggml.c type_traits). */
export const GGML_TYPE_LAYOUT: Record<GgmlType, GgmlTypeLayout> = {
  [GgmlType.F32]: { blockElements: 1, blockBytes: 4 },
  [GgmlType.F16]: { blockElements: 1, blockBytes: 2 },
  [GgmlType.Q4_0]: { blockElements: 32, blockBytes: 18 }, // f16 d + 16 bytes of nibbles
  [GgmlType.Q4_1]: { blockElements: 32, blockBytes: 20 },
  [GgmlType.Q5_0]: { blockElements: 32, blockBytes: 22 },
  [GgmlType.Q5_1]: { blockElements: 32, blockBytes: 24 },
  [GgmlType.Q8_0]: { blockElements: 32, blockBytes: 34 }, // f16 d + 32 int8
  [GgmlType.Q8_1]: { blockElements: 32, blockBytes: 36 },
  [GgmlType.Q2_K]: { blockElements: 256, blockBytes: 84 },
  [GgmlType.Q3_K]: { blockElements: 256, blockBytes: 110 },
  [GgmlType.Q4_K]: { blockElements: 256, blockBytes: 144 },
  [GgmlType.Q5_K]: { blockElements: 256, blockBytes: 176 },
  [GgmlType.Q6_K]: { blockElements: 256, blockBytes: 210 },
  [GgmlType.Q8_K]: { blockElements: 256, blockBytes: 292 },
  [GgmlType.IQ2_XXS]: { blockElements: 256, blockBytes: 66 },
  [GgmlType.IQ2_XS]: { blockElements: 256, blockBytes: 74 },
  [GgmlType.IQ3_XXS]: { blockElements: 256, blockBytes: 98 },
  [GgmlType.IQ1_S]: { blockElements: 256, blockBytes: 50 },
  [GgmlType.IQ4_NL]: { blockElements: 32, blockBytes: 18 },
  [GgmlType.IQ3_S]: { blockElements: 256, blockBytes: 110 },
  [GgmlType.IQ2_S]: { blockElements: 256, blockBytes: 82 },
  [GgmlType.IQ4_XS]: { blockElements: 256, blockBytes: 136 },
  [GgmlType.I8]: { blockElements: 1, blockBytes: 1 },
  [GgmlType.I16]: { blockElements: 1, blockBytes: 2 },
  [GgmlType.I32]: { blockElements: 1, blockBytes: 4 },
  [GgmlType.I64]: { blockElements: 1, blockBytes: 8 },
  [GgmlType.F64]: { blockElements: 1, blockBytes: 8 },
  [GgmlType.IQ1_M]: { blockElements: 256, blockBytes: 56 },
  [GgmlType.BF16]: { blockElements: 1, blockBytes: 2 },
  [GgmlType.TQ1_0]: { blockElements: 256, blockBytes: 54 },
  [GgmlType.TQ2_0]: { blockElements: 256, blockBytes: 66 },
  [GgmlType.MXFP4]: { blockElements: 32, blockBytes: 17 },
};

export function isKnownGgmlType(type: number): type is GgmlType {
  return Object.prototype.hasOwnProperty.call(GGML_TYPE_LAYOUT, type);
}

export function ggmlTypeName(type: number): string {
  return isKnownGgmlType(type) ? GgmlType[type] : `type#${type}`;
}

/** Bytes of a tensor of `elementCount` elements of `type` (elementCount must be a multiple of the block). */
export function ggmlTensorBytes(type: GgmlType, elementCount: number): number {
  const layout = GGML_TYPE_LAYOUT[type];
  return (elementCount / layout.blockElements) * layout.blockBytes;
}

/** A tensor as the header describes it. dims are in ggml order: dims[0] is the fastest-moving (row length). */
export interface GgufTensorInfo {
  name: string;
  dims: number[];
  type: GgmlType;
  /** Offset from the start of the data section, as stored. */
  relativeOffset: number;
  /** Absolute byte offset in the file. */
  offset: number;
  byteLength: number;
  elementCount: number;
}

export interface GgufHeader {
  version: number;
  metadata: Map<string, GgufValue>;
  /** The value type each key was stored with (arrays: their element type), for faithful re-writing. */
  metadataTypes: Map<string, { type: GgufValueType; elementType?: GgufValueType }>;
  tensors: GgufTensorInfo[];
  tensorByName: Map<string, GgufTensorInfo>;
  alignment: number;
  /** Absolute offset where the tensor data section begins. */
  dataOffset: number;
  fileSize: number;
}
