// Acquires a WebGPU device with the adapter's real limits (never assuming more than it reports),
// and describes it for reports.

import { GpuMemory } from "./memory.js";

export interface GpuLimits {
  maxBufferSize: number;
  maxStorageBufferBindingSize: number;
  minStorageBufferOffsetAlignment: number;
  maxComputeWorkgroupStorageSize: number;
  maxComputeInvocationsPerWorkgroup: number;
  maxComputeWorkgroupSizeX: number;
  maxComputeWorkgroupsPerDimension: number;
  maxStorageBuffersPerShaderStage: number;
  /** Widest and tallest 2-D texture (weights read as texels: src/model/weights.ts). */
  maxTextureDimension2D: number;
}

export interface AdapterDescription {
  vendor: string;
  architecture: string;
  description: string;
  isFallbackAdapter: boolean;
  features: string[];
}

export interface GpuContext {
  device: GPUDevice;
  limits: GpuLimits;
  adapter: AdapterDescription;
  hasShaderF16: boolean;
  hasSubgroups: boolean;
  /**
   * The adapter's smallest subgroup (0 when it does not say), and whether WGSL has the subgroup_id builtin: a kernel
   * that shares rows among LANES_PER_ROW lanes of one subgroup needs both (shaders/matmul_subgroup.wgsl).
   */
  subgroupMinSize: number;
  hasSubgroupId: boolean;
  hasTimestamps: boolean;
  memory: GpuMemory;
  /** Set when the device is lost; every later call fails with this reason. */
  lostReason?: string;
}

const REQUESTED_LIMITS: (keyof GpuLimits)[] = [
  "maxBufferSize",
  "maxStorageBufferBindingSize",
  "maxComputeWorkgroupStorageSize",
  "maxComputeInvocationsPerWorkgroup",
  "maxComputeWorkgroupSizeX",
  "maxComputeWorkgroupsPerDimension",
  "maxStorageBuffersPerShaderStage",
  "maxTextureDimension2D",
];

export class GpuUnavailableError extends Error {
  readonly code = "gpu_unavailable";
}

export async function acquireGpu(options: { powerPreference?: GPUPowerPreference } = {}): Promise<GpuContext> {
  if (typeof navigator === "undefined" || !navigator.gpu) {
    throw new GpuUnavailableError(
      "WebGPU is not available here (navigator.gpu is missing): use a recent Chrome on a secure origin " +
        "(https or http://127.0.0.1), or Chromium with --enable-unsafe-webgpu",
    );
  }
  const adapter = await navigator.gpu.requestAdapter({ powerPreference: options.powerPreference ?? "high-performance" });
  if (!adapter) throw new GpuUnavailableError("navigator.gpu.requestAdapter() returned no adapter: WebGPU is blocked or unsupported on this machine");

  const requiredLimits: Record<string, number> = {};
  for (const name of REQUESTED_LIMITS) requiredLimits[name] = adapter.limits[name] as number;
  const wanted: GPUFeatureName[] = ["shader-f16", "subgroups", "timestamp-query"];
  const requiredFeatures = wanted.filter((feature) => adapter.features.has(feature));
  const device = await adapter.requestDevice({ requiredLimits, requiredFeatures });

  const limits = {} as GpuLimits;
  for (const name of [...REQUESTED_LIMITS, "minStorageBufferOffsetAlignment"] as (keyof GpuLimits)[]) {
    limits[name] = device.limits[name] as number;
  }
  const info = adapter.info;
  const context: GpuContext = {
    device,
    limits,
    adapter: {
      vendor: info.vendor,
      architecture: info.architecture,
      description: info.description,
      isFallbackAdapter: (info as GPUAdapterInfo & { isFallbackAdapter?: boolean }).isFallbackAdapter ?? false,
      features: [...adapter.features].sort(),
    },
    hasShaderF16: device.features.has("shader-f16"),
    hasSubgroups: device.features.has("subgroups"),
    subgroupMinSize: (info as GPUAdapterInfo & { subgroupMinSize?: number }).subgroupMinSize ?? 0,
    hasSubgroupId: (navigator.gpu as GPU & { wgslLanguageFeatures?: ReadonlySet<string> }).wgslLanguageFeatures?.has("subgroup_id") ?? false,
    hasTimestamps: device.features.has("timestamp-query"),
    memory: new GpuMemory(device, limits.maxBufferSize, limits.maxTextureDimension2D),
  };
  void device.lost.then((lost) => {
    context.lostReason = `GPU device lost (${lost.reason}): ${lost.message}`;
  });
  return context;
}
