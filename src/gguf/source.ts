// Random-access byte sources for GGUF files: memory, Blob/File, and URLs (HTTP range requests), and a read-ahead
// over any of them (readAhead). The Node file source lives in node-source.ts so that the page bundle never imports node:fs.

import { GgufError } from "./errors.js";

export interface ByteSource {
  /** A name for messages: a path, a URL, a file name. */
  readonly name: string;
  /** Total size in bytes. */
  readonly size: number;
  /** Exactly `length` bytes from `offset`; throws GgufError("truncated") past the end. */
  read(offset: number, length: number): Promise<Uint8Array>;
  close?(): Promise<void>;
  /** The bytes are in memory: a read costs nothing, and readAhead leaves the source as it is. */
  readonly inMemory?: boolean;
}

export type ProgressCallback = (loadedBytes: number, totalBytes: number) => void;

function checkRange(source: ByteSource, offset: number, length: number): void {
  if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
    throw new GgufError("truncated", `${source.name}: invalid read of ${length} bytes at offset ${offset}`);
  }
  if (offset + length > source.size) {
    throw new GgufError(
      "truncated",
      `${source.name}: file truncated: needed bytes ${offset}..${offset + length} but the file has ${source.size} bytes`,
    );
  }
}

export function bytesSource(bytes: Uint8Array, name = "memory"): ByteSource {
  const source: ByteSource = {
    name,
    size: bytes.byteLength,
    inMemory: true,
    async read(offset, length) {
      checkRange(source, offset, length);
      return bytes.subarray(offset, offset + length);
    },
  };
  return source;
}

export function blobSource(blob: Blob, name = (blob as File).name ?? "blob"): ByteSource {
  const source: ByteSource = {
    name,
    size: blob.size,
    async read(offset, length) {
      checkRange(source, offset, length);
      return new Uint8Array(await blob.slice(offset, offset + length).arrayBuffer());
    },
  };
  return source;
}

/**
 * A URL read with HTTP range requests. When the server ignores ranges (200 instead of 206), the whole
 * body is streamed once into memory, reporting progress, and served from there.
 */
export async function urlSource(url: string, onProgress?: ProgressCallback): Promise<ByteSource> {
  let probe: Response;
  try {
    probe = await fetch(url, { headers: { Range: "bytes=0-0" } });
  } catch (error) {
    throw new GgufError("source_error", `${url}: fetch failed: ${(error as Error).message}`);
  }
  const contentRange = probe.headers.get("Content-Range");
  if (probe.status === 416 && /\/0\s*$/.test(contentRange ?? "")) {
    return bytesSource(new Uint8Array(0), url); // an empty file: "bytes=0-0" is unsatisfiable
  }
  if (!probe.ok) throw new GgufError("source_error", `${url}: HTTP ${probe.status} ${probe.statusText}`);
  const totalFromRange = contentRange?.match(/\/(\d+)\s*$/)?.[1];
  if (probe.status === 206 && totalFromRange !== undefined) {
    await probe.body?.cancel();
    const size = Number(totalFromRange);
    let loaded = 0;
    const source: ByteSource = {
      name: url,
      size,
      async read(offset, length) {
        checkRange(source, offset, length);
        if (length === 0) return new Uint8Array(0);
        const response = await fetch(url, { headers: { Range: `bytes=${offset}-${offset + length - 1}` } });
        if (response.status !== 206) {
          throw new GgufError("source_error", `${url}: range request answered HTTP ${response.status}`);
        }
        const bytes = new Uint8Array(await response.arrayBuffer());
        if (bytes.byteLength !== length) {
          throw new GgufError("truncated", `${url}: asked for ${length} bytes at ${offset}, got ${bytes.byteLength}`);
        }
        loaded += length;
        onProgress?.(Math.min(loaded, size), size);
        return bytes;
      },
    };
    return source;
  }
  // No range support: stream the body (the probe response already holds all of it).
  const total = Number(probe.headers.get("Content-Length") ?? 0);
  const chunks: Uint8Array[] = [];
  let loaded = 0;
  const reader = probe.body!.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    loaded += value.byteLength;
    onProgress?.(loaded, total || loaded);
  }
  const all = new Uint8Array(loaded);
  let at = 0;
  for (const chunk of chunks) {
    all.set(chunk, at);
    at += chunk.byteLength;
  }
  return bytesSource(all, url);
}

/**
 * `source` read at least `windowBytes` at a time: a read outside the last window fetches a new one from its offset,
 * reads inside it are served from memory (larger reads go through as they are). For a model's load, whose reads are
 * many (every tensor, norm vectors of a few KB) and near each other, while each read of a URL or a Blob costs
 * milliseconds whatever its size: 144 MB in 150 KB reads took 2.1 s from a Blob and from OPFS here, in 32 MiB reads
 * 0.3–0.4 s; by range requests 2.1 s in 1 MiB reads, 0.5 s in 32 MiB ones. A source in memory is returned as it
 * is: a window over it would only copy every read once more.
 */
export function readAhead(source: ByteSource, windowBytes: number): ByteSource {
  if (source.inMemory) return source;
  let window: { offset: number; bytes: Uint8Array } | undefined;
  const ahead: ByteSource = {
    name: source.name,
    size: source.size,
    async read(offset, length) {
      checkRange(ahead, offset, length);
      if (length === 0) return new Uint8Array(0);
      if (length >= windowBytes) return source.read(offset, length);
      if (!window || offset < window.offset || offset + length > window.offset + window.bytes.byteLength) {
        window = { offset, bytes: await source.read(offset, Math.min(windowBytes, source.size - offset)) };
      }
      const at = offset - window.offset;
      return window.bytes.slice(at, at + length); // a copy: the caller may keep or modify it
    },
    close: source.close ? () => source.close!() : undefined,
  };
  return ahead;
}
