// A plain static file server for the library and app tests (what any static host does: files, Range
// requests, 404s), which also records every request it answers — so a test can count downloads and see the
// Range header of a resumed one — and can cut a response short once, to interrupt a download mid-body.

import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve } from "node:path";

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".map": "application/json",
  ".png": "image/png",
};

export interface RecordedRequest {
  path: string;
  range: string | undefined;
  status: number;
}

export interface StaticServer {
  origin: string;
  requests: RecordedRequest[];
  /** Serves a file outside the root at `urlPath`. */
  mount(urlPath: string, filePath: string): string;
  /** The next full-body response for `urlPath` ends (connection destroyed) after `bytes` bytes. */
  cutNextResponse(urlPath: string, bytes: number): void;
  requestsFor(urlPath: string): RecordedRequest[];
  close(): Promise<void>;
}

export async function startStaticServer(rootDir: string): Promise<StaticServer> {
  const root = resolve(rootDir);
  const mounts = new Map<string, string>();
  const cuts = new Map<string, number>();
  const requests: RecordedRequest[] = [];

  const server: Server = createServer(async (request, response) => {
    const url = new URL(request.url ?? "/", "http://127.0.0.1");
    const path = decodeURIComponent(url.pathname);
    const record: RecordedRequest = { path, range: request.headers.range, status: 0 };
    requests.push(record);
    const filePath = mounts.get(path) ?? join(root, normalize(path === "/" ? "/index.html" : path));
    if (!mounts.has(path) && !filePath.startsWith(root)) return void response.writeHead((record.status = 403)).end();
    let size: number;
    try {
      const info = await stat(filePath);
      if (!info.isFile()) throw new Error("not a file");
      size = info.size;
    } catch {
      return void response.writeHead((record.status = 404)).end("not found");
    }
    const headers = { "Content-Type": TYPES[extname(filePath)] ?? "application/octet-stream", "Accept-Ranges": "bytes", "Cache-Control": "no-store" };
    const range = request.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
    let start = 0;
    let end = size - 1;
    if (range) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || end < start) return void response.writeHead((record.status = 416), { "Content-Range": `bytes */${size}` }).end();
      response.writeHead((record.status = 206), { ...headers, "Content-Range": `bytes ${start}-${end}/${size}`, "Content-Length": end - start + 1 });
    } else {
      response.writeHead((record.status = 200), { ...headers, "Content-Length": size });
    }
    if (request.method === "HEAD") return void response.end();
    const cut = range ? undefined : cuts.get(path);
    if (cut !== undefined) {
      cuts.delete(path);
      const stream = createReadStream(filePath, { start: 0, end: cut - 1 });
      stream.on("data", (chunk) => response.write(chunk));
      stream.on("end", () => setTimeout(() => response.destroy(), 50));
      return;
    }
    const stream = createReadStream(filePath, { start, end });
    stream.on("error", () => response.destroy());
    stream.pipe(response);
  });
  await new Promise<void>((done, fail) => {
    server.once("error", fail);
    server.listen(0, "127.0.0.1", () => done());
  });
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    origin,
    requests,
    mount(urlPath, filePath) {
      mounts.set(urlPath, resolve(filePath));
      return origin + urlPath;
    },
    cutNextResponse(urlPath, bytes) {
      cuts.set(urlPath, bytes);
    },
    requestsFor: (urlPath) => requests.filter((r) => r.path === urlPath),
    close: () =>
      new Promise((done) => {
        server.closeAllConnections?.();
        server.close(() => done());
      }),
  };
}
