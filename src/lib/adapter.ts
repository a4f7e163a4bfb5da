// The WebGPU adapter as the engine would get it, without loading anything: what an app shows before a
// download (does this model fit?). Throws NoWebGpuError when there is none.

import { acquireGpu } from "../gpu/device.js";
import type { AdapterInfo } from "./core.js";
import { NoWebGpuError } from "./errors.js";

export async function webgpuAdapter(): Promise<AdapterInfo> {
  const gpu = await acquireGpu().catch((error: Error) => {
    throw new NoWebGpuError(error.message);
  });
  const info = { ...gpu.adapter, limits: gpu.limits };
  gpu.device.destroy();
  return info;
}
