// The local page server as an attacker would probe it: nothing outside the per-run secret prefix, no other
// Host, no methods but GET/HEAD, no path outside the root — and no request, however malformed, ends it.

import { request } from "node:http";
import { mkdtemp, mkdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPageServer, type PageServer } from "../../src/harness/server.js";

const root = await mkdtemp(join(tmpdir(), "webkv-server-"));
let server: PageServer;
beforeAll(async () => {
  await mkdir(join(root, "page"));
  await writeFile(join(root, "page", "index.html"), "<p>page</p>");
  await writeFile(join(root, "secret-model.gguf"), "GGUF-bytes-0123456789");
  server = await startPageServer(join(root, "page"));
});
afterAll(async () => {
  await server.close();
  await rm(root, { recursive: true, force: true });
});

/** A raw request (paths sent as given, any Host) → status and body. */
function get(path: string, options: { host?: string; method?: string; headers?: Record<string, string> } = {}): Promise<{ status: number; body: string }> {
  const { port } = new URL(server.origin);
  return new Promise((resolve, reject) => {
    const req = request({ host: "127.0.0.1", port, path, method: options.method ?? "GET", headers: { host: options.host ?? `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      let body = "";
      res.on("data", (chunk) => (body += chunk));
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject);
    req.end();
  });
}

const pathOf = (url: string) => new URL(url).pathname;

describe("the page server", () => {
  it("serves the page and published files under the secret prefix, with ranges", async () => {
    expect((await get(pathOf(server.pageUrl))).body).toBe("<p>page</p>");
    const model = pathOf(server.publishFile(join(root, "secret-model.gguf")));
    expect((await get(model)).body).toBe("GGUF-bytes-0123456789");
    expect(await get(model, { headers: { range: "bytes=5-9" } })).toEqual({ status: 206, body: "bytes" });
  });

  it("refuses requests without the secret: another local process cannot read the model", async () => {
    const model = pathOf(server.publishFile(join(root, "secret-model.gguf")));
    const withoutSecret = model.replace(/^\/[0-9a-f]{32}/, "");
    expect((await get(withoutSecret)).status).toBe(404);
    expect((await get("/index.html")).status).toBe(404);
    const secret = model.split("/")[1]!;
    const wrongSecret = secret.startsWith("0") ? "f".repeat(32) : "0".repeat(32);
    expect((await get(model.replace(secret, wrongSecret))).status).toBe(404);
  });

  it("refuses any Host but 127.0.0.1:PORT (DNS rebinding) and methods other than GET/HEAD", async () => {
    const page = pathOf(server.pageUrl);
    expect((await get(page, { host: "evil.example:80" })).status).toBe(421);
    expect((await get(page, { host: "localhost" })).status).toBe(421);
    expect((await get(page, { method: "POST" })).status).toBe(405);
    expect((await get(page, { method: "HEAD" })).status).toBe(200);
  });

  it("answers malformed paths with 400/403 and keeps serving (GET /%zz used to end the run)", async () => {
    const prefix = pathOf(server.pageUrl).replace("/index.html", "");
    for (const bad of ["/%zz", `${prefix}/%zz`, `${prefix}/%E0%A4%A`, `${prefix}/..%2F..%2Fsecret-model.gguf`, `${prefix}/../../etc/passwd`]) {
      const { status } = await get(bad);
      expect([400, 403, 404]).toContain(status);
    }
    expect((await get(`${prefix}/%zz`)).status).toBe(400);
    // an encoded traversal resolves inside the page root, where there is no such file
    expect(await get(`${prefix}/..%2F..%2Fsecret-model.gguf`)).toEqual({ status: 404, body: "not found" });
    expect((await get(pathOf(server.pageUrl))).status).toBe(200);
  });
});
