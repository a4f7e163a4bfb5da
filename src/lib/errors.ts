// The library's errors: one class per thing a user can act on, each with a stable `code`. Errors raised
// anywhere in the runtime (GGUF reader, model config, GPU allocator, KV pool) are mapped onto these by
// their own codes, so an app can `instanceof` or switch on `code` without knowing the runtime's insides.
// Messages are one line.

export type WebkvErrorCode =
  | "bad_model"
  | "unsupported_model"
  | "adapter_too_small"
  | "kv_exhausted"
  | "device_lost"
  | "aborted"
  | "storage_full"
  | "no_webgpu"
  | "download_failed"
  | "integrity_mismatch"
  | "bad_request"
  | "unloaded";

export class WebkvError extends Error {
  constructor(
    readonly code: WebkvErrorCode,
    message: string,
  ) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "WebkvError";
  }
}

/** The file is not a GGUF model the runtime can read: wrong magic, truncated, inconsistent shapes, a PNG. */
export class BadModelError extends WebkvError {
  constructor(message: string) {
    super("bad_model", message);
    this.name = "BadModelError";
  }
}

/** A well-formed GGUF of an architecture or weight format the runtime does not run. */
export class UnsupportedModelError extends WebkvError {
  constructor(message: string) {
    super("unsupported_model", message);
    this.name = "UnsupportedModelError";
  }
}

/** The adapter cannot hold the model or its KV cache (a buffer beyond its limits, or out of memory). */
export class AdapterTooSmallError extends WebkvError {
  constructor(message: string) {
    super("adapter_too_small", message);
    this.name = "AdapterTooSmallError";
  }
}

export class KvExhaustedError extends WebkvError {
  constructor(message: string) {
    super("kv_exhausted", message);
    this.name = "KvExhaustedError";
  }
}

export class DeviceLostError extends WebkvError {
  constructor(message: string) {
    super("device_lost", message);
    this.name = "DeviceLostError";
  }
}

/** The caller's AbortSignal fired; generation stopped after the step in flight. */
export class AbortedError extends WebkvError {
  constructor(message = "generation aborted by the caller's AbortSignal") {
    super("aborted", message);
    this.name = "AbortedError";
  }
}

/** navigator.storage.estimate() says the model does not fit in the origin's remaining quota. */
export class StorageFullError extends WebkvError {
  constructor(message: string) {
    super("storage_full", message);
    this.name = "StorageFullError";
  }
}

/** No WebGPU (navigator.gpu missing, or no adapter): raised before any download. */
export class NoWebGpuError extends WebkvError {
  constructor(message: string) {
    super("no_webgpu", message);
    this.name = "NoWebGpuError";
  }
}

/** The model URL could not be fetched (HTTP error, network failure, no Range support when resuming). */
export class DownloadError extends WebkvError {
  constructor(message: string) {
    super("download_failed", message);
    this.name = "DownloadError";
  }
}

/** A downloaded file's sha256 is not the one expected. */
export class IntegrityError extends WebkvError {
  constructor(message: string) {
    super("integrity_mismatch", message);
    this.name = "IntegrityError";
  }
}

/** Invalid arguments (sampling options, messages, an unknown catalog name). */
export class BadRequestError extends WebkvError {
  constructor(message: string) {
    super("bad_request", message);
    this.name = "BadRequestError";
  }
}

/** The engine was unloaded (or its worker is gone). */
export class UnloadedError extends WebkvError {
  constructor(message = "the engine was unloaded") {
    super("unloaded", message);
    this.name = "UnloadedError";
  }
}

const CLASSES: Record<WebkvErrorCode, new (message: string) => WebkvError> = {
  bad_model: BadModelError,
  unsupported_model: UnsupportedModelError,
  adapter_too_small: AdapterTooSmallError,
  kv_exhausted: KvExhaustedError,
  device_lost: DeviceLostError,
  aborted: AbortedError,
  storage_full: StorageFullError,
  no_webgpu: NoWebGpuError,
  download_failed: DownloadError,
  integrity_mismatch: IntegrityError,
  bad_request: BadRequestError,
  unloaded: UnloadedError,
};

/** Runtime codes (src/gguf/errors.ts, src/gpu, src/kv, src/engine) → the library's. */
const RUNTIME_CODES: Record<string, WebkvErrorCode> = {
  unsupported_architecture: "unsupported_model",
  unsupported_tensor_type: "unsupported_model",
  unknown_tensor_type: "unsupported_model",
  source_error: "download_failed",
  gpu_out_of_memory: "adapter_too_small",
  attention_scratch_too_large: "adapter_too_small",
  gpu_unavailable: "no_webgpu",
  kv_pool_exhausted: "kv_exhausted",
  bad_sampling_option: "bad_request",
  context_overflow: "bad_request",
  bad_kv_format: "bad_request",
  too_many_sequences: "bad_request",
  no_template: "unsupported_model",
};

/** Any thrown value as a library error: kept when it already is one, else classified by its code. */
export function toWebkvError(error: unknown): WebkvError {
  if (error instanceof WebkvError) return error;
  const e = error as { name?: string; code?: string; message?: string };
  const message = e?.message ?? String(error);
  if (e?.code && e.code in CLASSES) return new CLASSES[e.code as WebkvErrorCode](message);
  const mapped = e?.code ? RUNTIME_CODES[e.code] : undefined;
  if (mapped) return new CLASSES[mapped](message);
  if (e?.name === "GgufError" || e?.name === "ModelConfigError" || e?.name === "ChatTemplateError") return new BadModelError(message);
  if (/exceeds one storage binding|exceeds this adapter's/i.test(message)) return new AdapterTooSmallError(message);
  if (/device lost/i.test(message)) return new DeviceLostError(message);
  if (e?.name === "AbortError") return new AbortedError();
  return new WebkvError("bad_request", message);
}

/** The class for a code (errors crossing from the worker carry only name, code and message). */
export function errorFromCode(code: string, message: string): WebkvError {
  const Class = CLASSES[code as WebkvErrorCode];
  return Class ? new Class(message) : new WebkvError("bad_request", message);
}
