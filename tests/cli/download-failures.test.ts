// Downloads that go wrong, against local servers on 127.0.0.1: a body cut mid-way is resumed with a Range
// request and verified whole; a server that stalls is given up on after the stall timeout; a 404, a refused
// connection or a server that keeps cutting the body ends in one error naming the URL and the cache path —
// and nothing is left in the cache (no file, no .partial).

import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, readdir, rm } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { DownloadFailedError, downloadVerified } from "../../src/cli/verified-download.js";

const BODY = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));
const SHA = createHash("sha256").update(BODY).digest("hex");
const servers: Server[] = [];
let dir: string;
beforeEach(async () => (dir = await mkdtemp(join(tmpdir(), "webkv-dl-"))));
afterEach(() => rm(dir, { recursive: true, force: true }));
afterAll(() => Promise.all(servers.map((s) => new Promise((done) => { s.closeAllConnections(); s.close(done); }))));

async function serve(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/model.gguf`;
}

/** Serves BODY (or its Range), cutting the connection after `cutAfter` bytes on the first `cuts` responses. */
function cuttingServer(cuts: number, cutAfter: number, requests: { range?: string }[]) {
  return (request: IncomingMessage, response: ServerResponse) => {
    requests.push({ range: request.headers.range });
    const start = Number(/^bytes=(\d+)-$/.exec(request.headers.range ?? "")?.[1] ?? 0);
    const part = BODY.subarray(start);
    const headers = { "content-length": String(part.length), ...(start > 0 ? { "content-range": `bytes ${start}-${BODY.length - 1}/${BODY.length}` } : {}) };
    response.writeHead(start > 0 ? 206 : 200, headers);
    if (requests.length <= cuts) {
      response.write(part.subarray(0, cutAfter), () => response.destroy());
    } else {
      response.end(part);
    }
  };
}

const leftovers = async () => (await readdir(dir)).filter((f) => f !== "cache");

describe("downloads that go wrong", () => {
  it("a body cut mid-way is resumed with a Range request and verified whole", async () => {
    const requests: { range?: string }[] = [];
    const url = await serve(cuttingServer(2, 50_000, requests));
    const target = join(dir, "model.gguf");
    expect(await downloadVerified(url, target, { expectedSha256: SHA })).toBe(SHA);
    expect(await readFile(target)).toEqual(BODY);
    expect(requests.map((r) => r.range)).toEqual([undefined, "bytes=50000-", "bytes=100000-"]);
    expect(existsSync(`${target}.partial`)).toBe(false);
  });

  it("a server that keeps cutting the body: one error naming URL and cache path after the resumptions, nothing left", async () => {
    const url = await serve(cuttingServer(100, 1000, []));
    const target = join(dir, "model.gguf");
    const error = await downloadVerified(url, target, { expectedSha256: SHA, retries: 2 }).catch((e: Error) => e);
    expect(error).toBeInstanceOf(DownloadFailedError);
    expect((error as Error).message).toMatch(new RegExp(`^${url} could not be downloaded to ${target}: .*\\(after 2 resumption\\(s\\)\\)$`));
    expect(await leftovers()).toEqual([]);
  });

  it("a stalled server is given up on after the stall timeout", async () => {
    const url = await serve((_request, response) => {
      response.writeHead(200, { "content-length": String(BODY.length) });
      response.write(BODY.subarray(0, 100)); // then nothing, ever
    });
    const target = join(dir, "model.gguf");
    const started = Date.now();
    const error = await downloadVerified(url, target, { expectedSha256: SHA, stallTimeoutMs: 300, retries: 1 }).catch((e: Error) => e);
    expect((error as Error).message).toMatch(/could not be downloaded to .*: no data for 0\.3 s/);
    expect(Date.now() - started).toBeLessThan(10_000);
    expect(await leftovers()).toEqual([]);
  });

  it("404 and a refused connection: one line each, no retry for a 404, nothing left", async () => {
    let hits = 0;
    const url = await serve((_request, response) => ((hits += 1), response.writeHead(404).end("no")));
    const target = join(dir, "model.gguf");
    const notFound = await downloadVerified(url, target, { expectedSha256: SHA }).catch((e: Error) => e);
    expect((notFound as Error).message).toBe(`${url} could not be downloaded to ${target}: HTTP 404`);
    expect(hits).toBe(1);
    const closed = await serve(() => undefined);
    servers.at(-1)!.close();
    const refused = await downloadVerified(closed, target, { expectedSha256: SHA }).catch((e: Error) => e);
    expect((refused as Error).message).toBe(`${closed} could not be downloaded to ${target}: connection refused`);
    expect(await leftovers()).toEqual([]);
  });
});
