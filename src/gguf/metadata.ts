// Typed access to GGUF metadata: a missing or mistyped key is a named GgufError, never `undefined` downstream.

import { GgufError } from "./errors.js";
import type { GgufHeader, GgufValue } from "./types.js";

export function hasKey(header: GgufHeader, key: string): boolean {
  return header.metadata.has(key);
}

export function metaNumber(header: GgufHeader, key: string, fallback?: number): number {
  const value = header.metadata.get(key);
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new GgufError("missing_key", `GGUF metadata "${key}" is missing`);
  }
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new GgufError("bad_metadata", `GGUF metadata "${key}" should be a number, found ${describe(value)}`);
  }
  return value;
}

/** A positive integer (a dimension or count). */
export function metaCount(header: GgufHeader, key: string, fallback?: number): number {
  const value = metaNumber(header, key, fallback);
  // Counts and dimensions are u32 in every file llama.cpp writes; anything larger is corrupt, and would not fit a kernel constant.
  if (!Number.isInteger(value) || value < 1 || value > 0xffffffff) {
    throw new GgufError("bad_metadata", `GGUF metadata "${key}" should be a positive integer below 2^32, found ${value}`);
  }
  return value;
}

export function metaString(header: GgufHeader, key: string, fallback?: string): string {
  const value = header.metadata.get(key);
  if (value === undefined) {
    if (fallback !== undefined) return fallback;
    throw new GgufError("missing_key", `GGUF metadata "${key}" is missing`);
  }
  if (typeof value !== "string") {
    throw new GgufError("bad_metadata", `GGUF metadata "${key}" should be a string, found ${describe(value)}`);
  }
  return value;
}

export function metaBool(header: GgufHeader, key: string, fallback: boolean): boolean {
  const value = header.metadata.get(key);
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") {
    throw new GgufError("bad_metadata", `GGUF metadata "${key}" should be a bool, found ${describe(value)}`);
  }
  return value;
}

export function metaStringArray(header: GgufHeader, key: string): string[] {
  const value = header.metadata.get(key);
  if (value === undefined) throw new GgufError("missing_key", `GGUF metadata "${key}" is missing`);
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw new GgufError("bad_metadata", `GGUF metadata "${key}" should be an array of strings, found ${describe(value)}`);
  }
  return value as string[];
}

/** A numeric array as plain numbers (typed arrays of any width accepted). */
export function metaNumberArray(header: GgufHeader, key: string): ArrayLike<number> | undefined {
  const value = header.metadata.get(key);
  if (value === undefined) return undefined;
  if (ArrayBuffer.isView(value) && !(value instanceof BigInt64Array) && !(value instanceof BigUint64Array)) {
    return value as ArrayLike<number>;
  }
  throw new GgufError("bad_metadata", `GGUF metadata "${key}" should be a numeric array, found ${describe(value)}`);
}

function describe(value: GgufValue): string {
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (ArrayBuffer.isView(value)) return `a ${value.constructor.name} of ${(value as ArrayLike<unknown>).length}`;
  return `${typeof value} ${String(value).slice(0, 40)}`;
}
