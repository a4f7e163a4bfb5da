// How values cross between Node and the page: JSON, with typed arrays carried as base64 (much faster
// than element-by-element serialization for logits and kernel buffers). Browser- and Node-safe.

type TypedArrayName = "Float32Array" | "Uint32Array" | "Int32Array" | "Uint8Array" | "Uint16Array" | "Int8Array" | "Float64Array";

interface EncodedTypedArray {
  $typed: TypedArrayName;
  base64: string;
}

const CONSTRUCTORS = { Float32Array, Uint32Array, Int32Array, Uint8Array, Uint16Array, Int8Array, Float64Array };

interface Base64Codec {
  encode(bytes: Uint8Array): string;
  decode(text: string): Uint8Array;
}

function base64Codec(): Base64Codec {
  const NodeBuffer = (globalThis as { Buffer?: { from(data: Uint8Array | string, encoding?: string): Uint8Array & { toString(encoding: string): string } } }).Buffer;
  if (NodeBuffer) {
    return {
      encode: (bytes) => NodeBuffer.from(bytes).toString("base64"),
      decode: (text) => new Uint8Array(NodeBuffer.from(text, "base64")),
    };
  }
  const withBase64 = Uint8Array as unknown as { fromBase64?: (text: string) => Uint8Array };
  if (withBase64.fromBase64) {
    return {
      encode: (bytes) => (bytes as unknown as { toBase64(): string }).toBase64(),
      decode: (text) => withBase64.fromBase64!(text),
    };
  }
  return {
    encode: (bytes) => {
      let binary = "";
      for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(binary);
    },
    decode: (text) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0)),
  };
}

const codec = base64Codec();

export function encodeWire(value: unknown): unknown {
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) {
    const name = value.constructor.name as TypedArrayName;
    if (name in CONSTRUCTORS) {
      const bytes = new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
      return { $typed: name, base64: codec.encode(bytes) } satisfies EncodedTypedArray;
    }
  }
  if (Array.isArray(value)) return value.map(encodeWire);
  if (value && typeof value === "object") {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, encodeWire(v)]));
  }
  return value;
}

export function decodeWire(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(decodeWire);
  if (value && typeof value === "object") {
    const maybe = value as Partial<EncodedTypedArray>;
    if (typeof maybe.$typed === "string" && typeof maybe.base64 === "string") {
      const bytes = codec.decode(maybe.base64);
      const Ctor = CONSTRUCTORS[maybe.$typed];
      const aligned = bytes.byteOffset % Ctor.BYTES_PER_ELEMENT === 0 ? bytes : bytes.slice();
      return new Ctor(aligned.buffer as ArrayBuffer, aligned.byteOffset, aligned.byteLength / Ctor.BYTES_PER_ELEMENT);
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, decodeWire(v)]));
  }
  return value;
}

/** An error as it crosses the wire: its class name, stable code and message. */
export interface WireError {
  name: string;
  code: string;
  message: string;
}

export function errorToWire(error: unknown): WireError {
  const e = error as { name?: string; code?: string; message?: string };
  return { name: e?.name ?? "Error", code: e?.code ?? "error", message: e?.message ?? String(error) };
}

/** Rebuilt on the Node side: the page's error, code preserved. */
export class WebkvError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly originalName = "Error",
  ) {
    super(message);
    this.name = "WebkvError";
  }
}
