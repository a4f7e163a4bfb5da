// A browser session: serves the built page on 127.0.0.1, starts Chromium on it, and calls the runtime
// inside (src/app/runtime.ts, which loads, generates and chats through the library's EngineCore) through
// window.webkv. This is the CLI's default execution path and the path of the GPU tests: the runtime code is
// the page's, the harness only starts things and passes messages.

import { existsSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { Page } from "playwright-core";
import type { RuntimeEvent } from "../app/runtime.js";
import { WebkvError, decodeWire, encodeWire, type WireError } from "../app/wire.js";
import { RuntimeEventListeners, type RuntimeHost } from "./host.js";
import { launchChromium, type ChromiumOptions, type LaunchedChromium } from "./chromium.js";
import { startPageServer, type PageServer } from "./server.js";

/** dist/page, found from wherever this module runs (built CLI in dist/cli, or sources under vitest). */
export function findPageDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const candidates = [resolve(here, "../page"), resolve(here, "../../dist/page")];
  const found = candidates.find((dir) => existsSync(join(dir, "index.html")));
  if (!found) throw new Error(`the page is not built (looked in ${candidates.join(", ")}): run \`npm run build\``);
  return found;
}

export interface SessionOptions extends ChromiumOptions {
  pageDir?: string;
  /** Print the page's console to stderr. */
  debug?: boolean;
  /** Serve the page cross-origin isolated (SharedArrayBuffer for multi-threaded WebAssembly peers). */
  crossOriginIsolated?: boolean;
}

export class BrowserSession implements RuntimeHost {
  readonly backend = "chromium" as const;
  private readonly listeners = new RuntimeEventListeners();
  private crashed: string | undefined;

  private constructor(
    readonly server: PageServer,
    readonly chromium: LaunchedChromium,
    readonly page: Page,
  ) {}

  static async start(options: SessionOptions = {}): Promise<BrowserSession> {
    const server = await startPageServer(options.pageDir ?? findPageDir(), { crossOriginIsolated: options.crossOriginIsolated });
    let chromium: LaunchedChromium | undefined;
    try {
      chromium = await launchChromium(options);
      const page = chromium.context.pages()[0] ?? (await chromium.context.newPage());
      const session = new BrowserSession(server, chromium, page);
      page.on("crash", () => (session.crashed = "the page crashed (renderer or GPU process died)"));
      if (options.debug || process.env.WEBKV_DEBUG) {
        page.on("console", (message) => process.stderr.write(`[page] ${message.text()}\n`));
      }
      page.on("pageerror", (error) => process.stderr.write(`[page error] ${error.message}\n`));
      await page.exposeFunction("__webkvEvent", (event: RuntimeEvent) => {
        session.listeners.emit(event);
      });
      await page.goto(server.pageUrl);
      await page.waitForFunction(() => window.webkv?.ready === true, undefined, { timeout: 30_000 });
      return session;
    } catch (error) {
      await chromium?.close();
      await server.close();
      throw error;
    }
  }

  onEvent(handler: (event: RuntimeEvent) => void): () => void {
    return this.listeners.add(handler);
  }

  /** Serves a local file to the page; returns its URL. */
  publishFile(path: string): string {
    return this.server.publishFile(path);
  }

  async call<T = unknown>(method: string, args: unknown = {}): Promise<T> {
    if (this.crashed) throw new WebkvError("page_crashed", this.crashed);
    let reply: { ok: boolean; value?: unknown; error?: WireError };
    try {
      reply = await this.page.evaluate(([m, a]) => window.webkv.call(m, a), [method, encodeWire(args)] as const) as typeof reply;
    } catch (error) {
      const reason = this.crashed ?? (error as Error).message.split("\n")[0];
      throw new WebkvError("page_crashed", `runtime call "${method}" failed: ${reason}`);
    }
    if (!reply.ok) {
      const e = reply.error!;
      throw new WebkvError(e.code, e.message, e.name);
    }
    return decodeWire(reply.value) as T;
  }

  async close(): Promise<void> {
    await this.chromium.close();
    await this.server.close();
  }
}
