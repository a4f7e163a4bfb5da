// A static HTTP server on 127.0.0.1 for the built page (dist/page) and for model files the page loads.
// Model files are served with Range support, so the page reads GGUF headers and tensors in pieces
// exactly as it would from any web server. WebGPU needs a secure context: http://127.0.0.1 is one.
//
// Nobody else may use it: it binds 127.0.0.1 only; every path lives under a per-run secret
// (/<128-bit hex>/…), so another local process that finds the port cannot read the model it serves; a
// request whose Host is not 127.0.0.1:<port> is refused (a DNS-rebinding page names its own host); only GET
// and HEAD are answered; and no request, however malformed (a bad %-escape, a path outside the root), can throw.
// With `crossOriginIsolated`, every response carries COOP/COEP so the page may use SharedArrayBuffer
// (multi-threaded WebAssembly: the peers bench runs wllama's threads in the same page).

import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { extname, join, normalize, resolve, sep } from "node:path";

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".json": "application/json",
  ".wgsl": "text/plain; charset=utf-8",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
};

export interface PageServerOptions {
  /** Send Cross-Origin-Opener-Policy / Cross-Origin-Embedder-Policy so the page is cross-origin isolated. */
  crossOriginIsolated?: boolean;
}

export interface PageServer {
  origin: string;
  /** The page's URL (under the secret prefix). */
  pageUrl: string;
  /** Publishes a local file; returns its URL on this server. */
  publishFile(path: string): string;
  close(): Promise<void>;
}

export async function startPageServer(pageDir: string, options: PageServerOptions = {}): Promise<PageServer> {
  const root = resolve(pageDir);
  const published = new Map<string, string>(); // url path (after the secret) → file path
  let nextId = 0;
  const secret = randomBytes(16).toString("hex");
  const prefix = `/${secret}`;
  let expectedHost = "";

  async function serveFile(request: IncomingMessage, response: ServerResponse, filePath: string): Promise<void> {
    let size: number;
    try {
      const info = await stat(filePath);
      if (!info.isFile()) throw new Error("not a file");
      size = info.size;
    } catch {
      response.writeHead(404).end("not found");
      return;
    }
    const headers: Record<string, string | number> = {
      "Content-Type": CONTENT_TYPES[extname(filePath)] ?? "application/octet-stream",
      "Accept-Ranges": "bytes",
      "Cache-Control": "no-store",
      ...(options.crossOriginIsolated ? { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } : {}),
    };
    const range = request.headers.range?.match(/^bytes=(\d+)-(\d*)$/);
    if (range) {
      const start = Number(range[1]);
      const end = range[2] ? Math.min(Number(range[2]), size - 1) : size - 1;
      if (start >= size || end < start) {
        response.writeHead(416, { "Content-Range": `bytes */${size}` }).end();
        return;
      }
      response.writeHead(206, { ...headers, "Content-Range": `bytes ${start}-${end}/${size}`, "Content-Length": end - start + 1 });
      if (request.method === "HEAD") return void response.end();
      pipeFile(createReadStream(filePath, { start, end }), response);
      return;
    }
    response.writeHead(200, { ...headers, "Content-Length": size });
    if (request.method === "HEAD") return void response.end();
    pipeFile(createReadStream(filePath), response);
  }

  function pipeFile(stream: ReturnType<typeof createReadStream>, response: ServerResponse): void {
    stream.on("error", () => response.destroy()); // the file vanished or became unreadable mid-request
    stream.pipe(response);
  }

  const refuse = (response: ServerResponse, status: number, why: string) =>
    void response.writeHead(status, { "Content-Type": "text/plain; charset=utf-8" }).end(why);

  const server: Server = createServer((request, response) => {
    if (request.headers.host !== expectedHost) return refuse(response, 421, "wrong host");
    if (request.method !== "GET" && request.method !== "HEAD") return refuse(response, 405, "method not allowed");
    let pathname: string;
    try {
      pathname = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
    } catch {
      return refuse(response, 400, "bad request");
    }
    if (pathname !== prefix && !pathname.startsWith(prefix + "/")) return refuse(response, 404, "not found");
    const rest = pathname.slice(prefix.length) || "/";
    const publishedPath = published.get(rest);
    if (publishedPath) return void serveFile(request, response, publishedPath);
    let decoded: string;
    try {
      decoded = decodeURIComponent(rest === "/" ? "/index.html" : rest);
    } catch {
      return refuse(response, 400, "bad path encoding");
    }
    const filePath = join(root, normalize(decoded));
    if (filePath !== root && !filePath.startsWith(root + sep)) return refuse(response, 403, "forbidden");
    void serveFile(request, response, filePath).catch(() => response.destroy());
  });
  server.on("clientError", (_error, socket) => socket.destroy());
  await new Promise<void>((resolveListen, rejectListen) => {
    server.once("error", rejectListen);
    server.listen(0, "127.0.0.1", () => resolveListen());
  });
  const { port } = server.address() as AddressInfo;
  expectedHost = `127.0.0.1:${port}`;
  const origin = `http://${expectedHost}`;
  return {
    origin,
    pageUrl: `${origin}${prefix}/index.html`,
    publishFile(path: string) {
      const urlPath = `/files/${nextId++}/${encodeURIComponent(path.split(/[\\/]/).pop() ?? "file")}`;
      published.set(urlPath, resolve(path));
      return origin + prefix + urlPath;
    },
    close: () =>
      new Promise((resolveClose) => {
        server.closeAllConnections?.();
        server.close(() => resolveClose());
      }),
  };
}
