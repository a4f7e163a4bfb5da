// urlSource against a static server with Range support: exact bytes for every read; and readAhead over it, the
// number of requests (a model's load reads hundreds of tensors and norm vectors; each request costs milliseconds).

import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bytesSource, readAhead, urlSource } from "../../src/gguf/source.js";
import { startStaticServer, type StaticServer } from "../helpers/static-server.js";

const SIZE = 300_000;
const bytes = new Uint8Array(randomBytes(SIZE));
let server: StaticServer;
let dir: string;
let url: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "webkv-source-"));
  await writeFile(join(dir, "file.bin"), bytes);
  server = await startStaticServer(dir);
  url = `${server.origin}/file.bin`;
});
afterAll(async () => {
  await server.close();
  await rm(dir, { recursive: true, force: true });
});

/** Reads spread over the file as a model's load makes them: small and large, in order and a little back. */
const READS: [number, number][] = [[0, 24], [24, 1000], [5000, 70_000], [4000, 100], [75_000, 3], [100_000, 150_000], [299_990, 10], [250_000, 0]];

describe("urlSource", () => {
  it("without read-ahead: one range request per read, each the exact bytes", async () => {
    const source = await urlSource(url);
    const before = server.requestsFor("/file.bin").length;
    for (const [offset, length] of READS) expect(await source.read(offset, length)).toEqual(bytes.subarray(offset, offset + length));
    expect(server.requestsFor("/file.bin").length - before).toBe(READS.filter(([, length]) => length > 0).length);
  });

  it("read ahead 64 KB at a time: reads inside the last window make no request, the bytes are the same", async () => {
    const source = readAhead(await urlSource(url), 64_000);
    const before = server.requestsFor("/file.bin").length;
    for (const [offset, length] of READS) expect(await source.read(offset, length)).toEqual(bytes.subarray(offset, offset + length));
    const ranges = server.requestsFor("/file.bin").slice(before).map((r) => r.range);
    // [0, 64000) serves the first two reads; 5000+70000 is larger than the window: fetched exactly, the window kept,
    // so it serves 4000+100 too; 75000 opens a new window; 100000+150000 exactly; 299990 a window clipped at the end.
    expect(ranges).toEqual(["bytes=0-63999", "bytes=5000-74999", "bytes=75000-138999", "bytes=100000-249999", "bytes=299990-299999"]);
  });

  it("a read past the end is a truncation error naming the file, with or without read-ahead", async () => {
    for (const source of [await urlSource(url), readAhead(await urlSource(url), 64_000), readAhead(bytesSource(bytes, "file.bin"), 64_000)]) {
      await expect(source.read(SIZE - 5, 10)).rejects.toThrow(/file truncated: needed bytes 299995\.\.300005 but the file has 300000 bytes/);
    }
  });

  it("a source in memory is not wrapped: its reads cost nothing, and a window would copy them once more", () => {
    const memory = bytesSource(bytes, "file.bin");
    expect(readAhead(memory, 64_000)).toBe(memory);
  });

  it("returned bytes are the caller's: changing them does not change a later read from the same window", async () => {
    const source = readAhead(await urlSource(url), 64_000);
    const first = await source.read(10, 20);
    first.fill(0);
    expect(await source.read(10, 20)).toEqual(bytes.subarray(10, 30));
  });
});
