// A Dawn session: the same runtime as the page's (src/app/runtime.ts), run in this Node process on Dawn
// (npm `webgpu`, an optional dependency) instead of in Chromium. For servers, CI and GPU machines where no
// browser is wanted; Chromium stays the default and the reference (tests/harness/dawn.test.ts checks that
// both give the same tokens). Files reach the runtime through the same token-guarded 127.0.0.1 server as
// the page's, so loading takes the very same path (range requests through fetch).
//
// Which adapter: Dawn asks the Vulkan loader (libvulkan1), which finds the machine's drivers. With
// gpu "swiftshader" the loader is pointed at Chromium's SwiftShader driver (the adapter the page gets on a
// machine without a GPU), so the two backends run the same kernels on the same adapter.

import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { callRuntimeMethod } from "../app/methods.js";
import type { Runtime, RuntimeEvent } from "../app/runtime.js";
import { WebkvError, errorToWire } from "../app/wire.js";
import { RuntimeEventListeners, type RuntimeHost } from "./host.js";
import { startPageServer, type PageServer } from "./server.js";

export interface DawnOptions {
  /** "swiftshader": Chromium's SwiftShader Vulkan driver; "gpu": whatever drivers the machine has. */
  gpu?: "swiftshader" | "gpu";
  /** The Chromium binary whose SwiftShader driver to use (default $WEBKV_CHROMIUM or /usr/bin/chromium). */
  chromiumPath?: string;
  /** Extra Dawn toggles, as npm `webgpu`'s create() takes them ("enable-dawn-features=…"). */
  dawnFlags?: string[];
}

/** Where Chromium keeps its SwiftShader Vulkan driver (vk_swiftshader_icd.json), or undefined. */
export function swiftShaderIcd(chromiumPath = process.env.WEBKV_CHROMIUM ?? "/usr/bin/chromium"): string | undefined {
  const candidates = ["/usr/lib/chromium", dirname(chromiumPath)].map((dir) => join(dir, "vk_swiftshader_icd.json"));
  return candidates.find((path) => existsSync(path));
}

interface DawnModule {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

/** Installs navigator.gpu (and GPUBufferUsage, …) from Dawn in this process; once per process. */
let installed: Promise<void> | undefined;
function installDawn(options: DawnOptions): Promise<void> {
  installed ??= (async () => {
    if ((options.gpu ?? "swiftshader") === "swiftshader" && process.env.VK_ICD_FILENAMES === undefined) {
      const icd = swiftShaderIcd(options.chromiumPath);
      if (!icd) throw new WebkvError("no_webgpu", "Dawn on SwiftShader needs Chromium's vk_swiftshader_icd.json (install Debian's chromium, or set VK_ICD_FILENAMES to a Vulkan driver)");
      process.env.VK_ICD_FILENAMES = icd; // read by the Vulkan loader when Dawn creates its instance
    }
    let dawn: DawnModule;
    try {
      dawn = (await import("webgpu")) as unknown as DawnModule;
    } catch (error) {
      throw new WebkvError("no_webgpu", `the Dawn backend needs the optional npm package "webgpu" (npm install webgpu): ${(error as Error).message.split("\n")[0]}`);
    }
    Object.assign(globalThis, dawn.globals);
    const gpu = dawn.create(options.dawnFlags ?? []);
    if (!(await gpu.requestAdapter())) {
      throw new WebkvError("no_webgpu", `Dawn found no GPU adapter: is the Vulkan loader installed (Debian: apt-get install libvulkan1) and a Vulkan driver visible${process.env.VK_ICD_FILENAMES ? ` (VK_ICD_FILENAMES=${process.env.VK_ICD_FILENAMES})` : ""}?`);
    }
    const nav = (globalThis as { navigator?: object }).navigator;
    if (nav) Object.defineProperty(nav, "gpu", { value: gpu, configurable: true });
    else Object.defineProperty(globalThis, "navigator", { value: { gpu }, configurable: true });
  })();
  return installed;
}

export class DawnSession implements RuntimeHost {
  readonly backend = "dawn" as const;
  private readonly listeners = new RuntimeEventListeners();
  private readonly runtime: Runtime;
  /** Models loaded through this session, unloaded on close. */
  private readonly loadedModels = new Set<number>();

  private constructor(
    private readonly server: PageServer,
    RuntimeClass: typeof Runtime,
  ) {
    this.runtime = new RuntimeClass((event) => this.listeners.emit(event));
  }

  static async start(options: DawnOptions = {}): Promise<DawnSession> {
    await installDawn(options);
    // Imported once Dawn has set GPUBufferUsage & co., in case a runtime module reads them when it loads.
    const { Runtime: RuntimeClass } = await import("../app/runtime.js");
    // The server only publishes model files here (there is no page): its root is a directory that need not exist.
    const server = await startPageServer(join(process.cwd(), ".webkv-no-page"));
    return new DawnSession(server, RuntimeClass);
  }

  onEvent(handler: (event: RuntimeEvent) => void): () => void {
    return this.listeners.add(handler);
  }

  publishFile(path: string): string {
    return this.server.publishFile(path);
  }

  /** Calls a runtime method; a failure becomes the same WebkvError (code, message, name) as through the page. */
  async call<T = unknown>(method: string, args: unknown = {}): Promise<T> {
    try {
      const result = await callRuntimeMethod(this.runtime, method, args);
      if (method === "load") this.loadedModels.add((result as { modelId: number }).modelId);
      if (method === "unload") this.loadedModels.delete((args as { modelId: number }).modelId);
      return result as T;
    } catch (error) {
      const wire = errorToWire(error);
      throw new WebkvError(wire.code, wire.message, wire.name);
    }
  }

  async close(): Promise<void> {
    // Unload every model so Dawn's buffers are freed before the process goes on (or exits).
    for (const modelId of this.loadedModels) this.runtime.unload({ modelId });
    this.loadedModels.clear();
    await this.server.close();
  }
}
