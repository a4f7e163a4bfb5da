// Joining typed arrays end to end (logits of prompt chunks, GGUF file parts, test buffers).

type TypedArray = Uint8Array | Float32Array;

/** The parts one after another, in a new array of the parts' type. */
export function concatTyped<T extends TypedArray>(parts: readonly T[], empty: T): T {
  const out = new (empty.constructor as new (length: number) => T)(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part as ArrayLike<number>, at);
    at += part.length;
  }
  return out;
}

export const concatBytes = (parts: readonly Uint8Array[]): Uint8Array => concatTyped(parts, new Uint8Array(0));
export const concatFloats = (parts: readonly Float32Array[]): Float32Array => concatTyped(parts, new Float32Array(0));
