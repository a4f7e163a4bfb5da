// Starts Chromium with WebGPU enabled, through playwright-core (no bundled browser: the system chromium).
//
// Default ("swiftshader"): headless, WebGPU on SwiftShader (Vulkan on the CPU) — works on any machine.
// "gpu": headless, WebGPU on the machine's real GPU through Vulkan (Linux) or the platform default.
// Headed runs (`headed: true`) need a display; they show the page.

import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext } from "playwright-core";

export type GpuBackend = "swiftshader" | "gpu";

export interface ChromiumOptions {
  /** Path of the chromium binary: option, else $WEBKV_CHROMIUM, else /usr/bin/chromium. */
  executablePath?: string;
  backend?: GpuBackend;
  headed?: boolean;
  /** Extra command-line flags. */
  extraArgs?: string[];
}

/** Flags common to every run: quiet networking (this machine has no internet), no first-run UI. */
const BASE_FLAGS = [
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
  "--disable-quic",
  "--disable-dev-shm-usage",
];

/** WebGPU on SwiftShader, the CPU implementation of Vulkan that ships with Chromium. */
const SWIFTSHADER_FLAGS = ["--enable-features=Vulkan", "--use-angle=swiftshader", "--use-webgpu-adapter=swiftshader"];

/** WebGPU on a real GPU through Vulkan (Linux); other platforms use their default backend. */
const REAL_GPU_FLAGS = process.platform === "linux" ? ["--enable-features=Vulkan", "--ignore-gpu-blocklist"] : ["--ignore-gpu-blocklist"];

export function chromiumFlags(options: ChromiumOptions = {}): string[] {
  const backend = options.backend ?? "swiftshader";
  return [
    ...(options.headed ? [] : ["--headless=new"]),
    ...BASE_FLAGS,
    ...(backend === "swiftshader" ? SWIFTSHADER_FLAGS : REAL_GPU_FLAGS),
    ...(options.extraArgs ?? []),
  ];
}

export interface LaunchedChromium {
  context: BrowserContext;
  /** PID of the browser process (the GPU process is one of its children). */
  browserPid: number | undefined;
  userDataDir: string;
  close(): Promise<void>;
}

export async function launchChromium(options: ChromiumOptions = {}): Promise<LaunchedChromium> {
  const executablePath = options.executablePath ?? process.env.WEBKV_CHROMIUM ?? "/usr/bin/chromium";
  const userDataDir = await mkdtemp(join(tmpdir(), "webkv-chromium-"));
  let context: BrowserContext;
  try {
    // A persistent context is the way to give Chromium a fresh --user-data-dir of our own.
    context = await chromium.launchPersistentContext(userDataDir, {
      executablePath,
      headless: false, // we pass --headless=new ourselves (playwright's own flag differs by version)
      args: chromiumFlags(options),
      ignoreDefaultArgs: ["--disable-gpu", "--enable-unsafe-swiftshader"],
      timeout: 60_000,
      // The command decides what Ctrl-C means (webkv chat: stop the reply); it closes the browser itself.
      handleSIGINT: false,
      handleSIGTERM: false,
      handleSIGHUP: false,
    });
  } catch (error) {
    await rm(userDataDir, { recursive: true, force: true });
    const message = (error as Error).message.split("\n")[0];
    throw new Error(
      `could not start Chromium at ${executablePath}: ${message}\n` +
        `install it (Debian: apt-get install -y chromium) or point WEBKV_CHROMIUM / --chromium at a Chromium or Chrome binary`,
    );
  }
  const browser: Browser | null = context.browser();
  const browserPid = (browser as unknown as { _process?: { pid?: number } } | null)?._process?.pid;
  return {
    context,
    browserPid,
    userDataDir,
    async close() {
      await context.close().catch(() => undefined);
      await rm(userDataDir, { recursive: true, force: true }).catch(() => undefined);
    },
  };
}
