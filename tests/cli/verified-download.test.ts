// Verified downloads against a local imitation of the Hugging Face hub on 127.0.0.1: a resolve URL answers
// 302 with x-linked-etag (the LFS sha256) and a Location on a "CDN" path that serves the bytes. A file is
// cached only when its sha256 matches; the hash learned from the host is recorded beside the cached file
// and checked from then on; a wrong or missing hash is a one-line error naming the URL and the cache path,
// and leaves nothing behind.

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { resolveModel, sha256RecordPath, type ModelManifest } from "../../src/cli/models.js";
import { DownloadVerificationError, sha256OfEtag } from "../../src/cli/verified-download.js";

const GOOD = Buffer.from("GGUF pretend model bytes ".repeat(1000));
const OTHER = Buffer.from("GGUF some other bytes");
const sha = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

// path → what the imitation hub answers; requests are counted per path.
const routes: Record<string, { etag?: string; body: Buffer; direct?: boolean }> = {
  "good.gguf": { etag: `"${sha(GOOD)}"`, body: GOOD },
  "bad.gguf": { etag: `"${sha(OTHER)}"`, body: GOOD },
  "nohash.gguf": { body: GOOD },
  "direct.gguf": { body: GOOD, direct: true },
  "weak.gguf": { etag: `W/"${sha(GOOD).toUpperCase()}"`, body: GOOD },
};
const hits = new Map<string, number>();
let server: Server;
let base: string;
let cache: string;
let savedCache: string | undefined;
let savedModels: string | undefined;

beforeAll(async () => {
  server = createServer((request, response) => {
    const path = request.url ?? "";
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const resolveMatch = /^\/org\/repo\/resolve\/main\/(.+)$/.exec(path);
    const cdnMatch = /^\/cdn\/(.+)$/.exec(path);
    const route = routes[(resolveMatch ?? cdnMatch)?.[1] ?? ""];
    if (!route) return response.writeHead(404).end();
    if (resolveMatch && !route.direct) {
      const headers: Record<string, string> = { location: `/cdn/${resolveMatch[1]}` };
      if (route.etag) headers["x-linked-etag"] = route.etag;
      return response.writeHead(302, headers).end();
    }
    response.writeHead(200, { "content-length": String(route.body.length), etag: '"0123456789abcdef0123456789abcdef01234567"' }).end(route.body);
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/org/repo/resolve/main`;
});
afterAll(() => new Promise<void>((done) => server.close(() => done())));

beforeEach(async () => {
  cache = await mkdtemp(join(tmpdir(), "webkv-download-"));
  savedCache = process.env.WEBKV_CACHE;
  savedModels = process.env.WEBKV_MODELS;
  process.env.WEBKV_CACHE = cache;
  delete process.env.WEBKV_MODELS;
  hits.clear();
});
afterEach(async () => {
  if (savedCache === undefined) delete process.env.WEBKV_CACHE;
  else process.env.WEBKV_CACHE = savedCache;
  if (savedModels === undefined) delete process.env.WEBKV_MODELS;
  else process.env.WEBKV_MODELS = savedModels;
  await rm(cache, { recursive: true, force: true });
});

const manifest = (file: string, sha256: string | null = null): ModelManifest => ({
  name: "tiny",
  file,
  url: `${base}/${file}`,
  sha256,
  bytes: null,
  license: "test",
  notes: "test",
});

/** Every file under the cache, relative paths. */
async function cachedFiles(): Promise<string[]> {
  return (await readdir(cache, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name).slice(cache.length + 1)).sort();
}

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    expect((error as Error).message).not.toContain("\n");
    return error as Error;
  }
  throw new Error("expected the resolution to fail");
}

describe("a named model without a sha256 in its manifest", () => {
  it("is checked against the host's x-linked-etag, cached, and its hash recorded beside it", async () => {
    const { path } = await resolveModel("tiny", undefined, { manifests: [manifest("good.gguf")] });
    expect(path).toBe(join(cache, "good.gguf"));
    expect(await readFile(path)).toEqual(GOOD);
    expect(await readFile(sha256RecordPath(path), "utf8")).toBe(`${sha(GOOD)}  good.gguf\n`);
    expect(await cachedFiles()).toEqual(["good.gguf", "good.gguf.sha256"]);
    expect([hits.get("/org/repo/resolve/main/good.gguf"), hits.get("/cdn/good.gguf")]).toEqual([1, 1]);

    // Next time the recorded hash is the known one: no download, and a changed file is refused.
    await resolveModel("tiny", undefined, { manifests: [manifest("good.gguf")] });
    expect(hits.get("/cdn/good.gguf")).toBe(1);
    await writeFile(path, OTHER);
    const error = await failure(resolveModel("tiny", undefined, { manifests: [manifest("good.gguf")] }));
    expect(error.message).toBe(`${path} does not match the sha256 recorded in ${path}.sha256: sha256 ${sha(OTHER)}, expected ${sha(GOOD)}`);
  });

  it("a host hash that does not match: a named error with the URL and the cache path, nothing cached", async () => {
    const error = await failure(resolveModel("tiny", undefined, { manifests: [manifest("bad.gguf")] }));
    expect(error).toBeInstanceOf(DownloadVerificationError);
    expect(error.message).toBe(
      `${base}/bad.gguf was not cached at ${join(cache, "bad.gguf")}: its sha256 is ${sha(GOOD)} but the host reported ${sha(OTHER)}; removed the download`,
    );
    expect(await cachedFiles()).toEqual([]);
  });

  it("no hash from the host (no x-linked-etag; a plain ETag is not a sha256): refused, nothing cached", async () => {
    for (const file of ["nohash.gguf", "direct.gguf"]) {
      const error = await failure(resolveModel("tiny", undefined, { manifests: [manifest(file)] }));
      expect(error).toBeInstanceOf(DownloadVerificationError);
      expect(error.message).toBe(
        `${base}/${file} was not cached at ${join(cache, file)}: no sha256 is known for it and the host reported none (no x-linked-etag header); ` +
          "download it yourself and pass --model /path/to/file",
      );
    }
    expect(await cachedFiles()).toEqual([]);
  });

  it("a $WEBKV_MODELS copy is used as is until a hash is recorded, then checked", async () => {
    const models = await mkdtemp(join(cache, "models-"));
    process.env.WEBKV_MODELS = models;
    await writeFile(join(models, "good.gguf"), OTHER);
    expect((await resolveModel("tiny", undefined, { manifests: [manifest("good.gguf")] })).path).toBe(join(models, "good.gguf"));
    await writeFile(sha256RecordPath(join(cache, "good.gguf")), `${sha(GOOD)}  good.gguf\n`);
    const error = await failure(resolveModel("tiny", undefined, { manifests: [manifest("good.gguf")] }));
    expect(error.message).toMatch(/good\.gguf does not match the sha256 recorded in .*good\.gguf\.sha256/);
  });
});

describe("a named model with a sha256 in its manifest", () => {
  it("the manifest's hash decides, whatever the host reports; a mismatch is never cached", async () => {
    const ok = await resolveModel("tiny", undefined, { manifests: [manifest("bad.gguf", sha(GOOD))] });
    expect(await readFile(ok.path)).toEqual(GOOD);
    expect(existsSync(sha256RecordPath(ok.path))).toBe(false); // the manifest already holds it

    const error = await failure(resolveModel("tiny", undefined, { manifests: [manifest("good.gguf", sha(OTHER))] }));
    expect(error.message).toBe(
      `${base}/good.gguf was not cached at ${join(cache, "good.gguf")}: its sha256 is ${sha(GOOD)} but expected ${sha(OTHER)}; removed the download`,
    );
    expect(await cachedFiles()).toEqual(["bad.gguf"]);
  });
});

describe("--model with a URL", () => {
  it("is verified the same way and cached under urls/ with its record; a bad one is not cached", async () => {
    const { path } = await resolveModel(`${base}/weak.gguf`);
    expect(await readFile(path)).toEqual(GOOD);
    expect(await readFile(sha256RecordPath(path), "utf8")).toBe(`${sha(GOOD)}  weak.gguf\n`);
    await resolveModel(`${base}/weak.gguf`);
    expect(hits.get("/cdn/weak.gguf")).toBe(1);

    const error = await failure(resolveModel(`${base}/nohash.gguf`));
    expect(error.message).toMatch(new RegExp(`^${base}/nohash\\.gguf was not cached at ${cache}/urls/[0-9a-f]{16}/nohash\\.gguf: no sha256 is known`));
    const missing = await failure(resolveModel(`${base}/missing.gguf`));
    expect(missing.message).toMatch(new RegExp(`^${base}/missing\\.gguf could not be downloaded to ${cache}/urls/[0-9a-f]{16}/missing\\.gguf: HTTP 404$`));
    expect((await cachedFiles()).filter((f) => !f.includes("weak.gguf"))).toEqual([]);
  });
});

describe("sha256OfEtag", () => {
  it("takes 64 hex digits, quoted or weak, and nothing else", () => {
    const hex = sha(GOOD);
    expect(sha256OfEtag(`"${hex}"`)).toBe(hex);
    expect(sha256OfEtag(`W/"${hex.toUpperCase()}"`)).toBe(hex);
    expect(sha256OfEtag(hex)).toBe(hex);
    expect(sha256OfEtag('"0123456789abcdef0123456789abcdef01234567"')).toBeUndefined(); // a git sha1
    expect(sha256OfEtag(null)).toBeUndefined();
  });
});
