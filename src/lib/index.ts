// webkv's public API: `import { createEngine } from "webkv"`.

export { createEngine, WebkvEngine } from "./engine.js";
export type {
  EngineOptions, GenerateOptions, GeneratedToken, GenerateStream, GenerateSummary, ChatCompletionRequest, ChatCompletion, ChatCompletionChunk, Usage, WebkvRunDetails,
} from "./engine.js";
export type { LoadInfo, ModelInfo, AdapterInfo, MemoryReport, FinishReason } from "./core.js";
export type { KvMap, KvBlockInfo, KvSequenceInfo } from "./kv-map.js";
export type { LoadPhase, LoadProgress } from "./progress.js";
export type { PredictedMemory } from "./prediction.js";
export type { MemorySnapshot, CategoryUsage, MemoryCategory } from "../gpu/memory.js";
export type { ChatMessage, ChatRole } from "../engine/chat-template.js";
export { MEMORY_CATEGORIES } from "../gpu/memory.js";
export { CATALOG, catalogEntry, type CatalogEntry } from "./catalog.js";
export { listCachedModels, deleteCachedModel, type CachedModel } from "./model-cache.js";
export { webgpuAdapter } from "./adapter.js";
export {
  WebkvError, BadModelError, UnsupportedModelError, AdapterTooSmallError, KvExhaustedError, DeviceLostError, AbortedError,
  StorageFullError, NoWebGpuError, DownloadError, IntegrityError, BadRequestError, UnloadedError, type WebkvErrorCode,
} from "./errors.js";
export {
  estimate, sweep, sweepSvg, fromHfConfig, PRESETS, preset, formatBytes, contextLabel, describeGgufUrl, describeGgufFile,
  type Estimate, type EstimateSettings, type MemoryBytes, type ModelDescription, type SweepSeries,
} from "./estimator.js";
