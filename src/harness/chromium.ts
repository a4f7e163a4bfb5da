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

/**
 * Flags common to every run: no first-run UI and no background networking. The flags stop most of Chromium's
 * own requests, but not two: the sign-in service lists accounts at accounts.google.com as soon as a profile's
 * network is up, and the component updater asks update.googleapis.com — no flag or preference turns those
 * off. So every host but 127.0.0.1 resolves to "not found" inside Chromium: such a request fails before any
 * DNS query or connection, and nothing leaves the machine but what webkv serves itself (tests/harness/netlog).
 */
export const LOCAL_ONLY_HOST_RULES = "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1";
const BASE_FLAGS = [
  "--no-sandbox",
  "--enable-unsafe-webgpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--disable-extensions",
  "--disable-default-apps",
  "--disable-client-side-phishing-detection",
  "--disable-domain-reliability",
  "--disable-breakpad",
  "--no-pings",
  "--no-first-run",
  "--no-default-browser-check",
  "--disable-quic",
  "--disable-dev-shm-usage",
  `--host-resolver-rules=${LOCAL_ONLY_HOST_RULES}`,
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
    // $WEBKV_NET_LOG=FILE records Chromium's network log (every request, DNS query and connection) to FILE.
    ...(process.env.WEBKV_NET_LOG ? [`--log-net-log=${process.env.WEBKV_NET_LOG}`, "--net-log-capture-mode=Default"] : []),
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

