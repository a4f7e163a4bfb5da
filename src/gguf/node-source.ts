// A GGUF byte source over a local file, for Node (CLI, tests, tools).

import { open } from "node:fs/promises";
import { GgufError } from "./errors.js";
import type { ByteSource } from "./source.js";

export async function fileSource(path: string): Promise<ByteSource> {
  let handle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw new GgufError("source_error", `${path}: cannot open: ${(error as Error).message}`);
  }
  const { size } = await handle.stat();
  const source: ByteSource = {
    name: path,
    size,
    async read(offset, length) {
      if (offset < 0 || length < 0 || offset + length > size) {
        throw new GgufError(
          "truncated",
          `${path}: file truncated: needed bytes ${offset}..${offset + length} but the file has ${size} bytes`,
        );
      }
      const bytes = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await handle.read(bytes, done, length - done, offset + done);
        if (bytesRead === 0) throw new GgufError("truncated", `${path}: unexpected end of file at ${offset + done}`);
        done += bytesRead;
      }
      return bytes;
    },
    async close() {
      await handle.close();
    },
  };
  return source;
}
