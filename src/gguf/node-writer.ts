// Writes an encoded GGUF to a file part by part (Node only).

import { open } from "node:fs/promises";
import { encodeGguf, type GgufWriteTensor, type GgufWriteValue } from "./writer.js";

export async function writeGgufFile(
  path: string,
  metadata: Record<string, GgufWriteValue>,
  tensors: GgufWriteTensor[],
  alignment?: number,
): Promise<number> {
  const handle = await open(path, "w");
  let written = 0;
  try {
    for (const part of encodeGguf(metadata, tensors, alignment)) {
      await handle.write(part);
      written += part.byteLength;
    }
  } finally {
    await handle.close();
  }
  return written;
}
