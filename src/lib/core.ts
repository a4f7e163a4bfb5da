// The engine's runtime side: one model on its own GPU device, with the requests the public API makes of
// it. It runs wherever the host puts it — in the dedicated worker (worker.ts) or on the page's main thread
// — and is built from the runtime's own pieces (TransformerModel, Engine, ChatSession, Sampler, the GGUF
// tokenizer), so the forward pass is the same one the CLI runs.

import { ChatSession } from "../engine/chat.js";
import { chatTemplateOf, type ChatMessage } from "../engine/chat-template.js";
import { Engine } from "../engine/engine.js";
import { Sampler, type SamplingOptions } from "../engine/sampler.js";
import { acquireGpu, type AdapterDescription, type GpuContext, type GpuLimits } from "../gpu/device.js";
import type { MemorySnapshot } from "../gpu/memory.js";
import { readGgufHeader } from "../gguf/reader.js";
import { blobSource, type ByteSource } from "../gguf/source.js";
import type { GgufHeader } from "../gguf/types.js";
import { TransformerModel } from "../model/forward.js";
import { parseKvSection } from "../kv/formats.js";
import { createTokenizer, type GgufTokenizer } from "../tokenizer/index.js";
import { catalogEntry } from "./catalog.js";
import { AbortedError, BadRequestError, NoWebGpuError, UnloadedError } from "./errors.js";
import { kvMap, type KvMap } from "./kv-map.js";
import { fetchModel } from "./model-cache.js";
import { predictMemory, type PredictedMemory } from "./prediction.js";
import type { LoadProgress } from "./progress.js";

/** What the host receives to load: a URL, a Blob/File, or a catalog name, plus runtime settings. */
export interface CoreLoadRequest {
  model: string | Blob;
  sha256?: string;
  kv?: string | { k: string; v: string };
  attention?: "flash" | "naive";
  blockSize?: number;
  /** KV budget in bytes (all layers), or a fraction (0..1] of the most one binding per layer allows. */
  kvBudget?: number;
  contextSize?: number;
  /** Sequences one step holds (default 1). */
  maxSeqs?: number;
}

export interface ModelInfo {
  name: string;
  architecture: string;
  contextLength: number;
  vocabSize: number;
  layers: number;
  hasChatTemplate: boolean;
  bytes: number;
}

export interface AdapterInfo extends AdapterDescription {
  limits: GpuLimits;
}

export interface LoadInfo {
  model: ModelInfo;
  adapter: AdapterInfo;
  loadMs: number;
}

export interface GenerateCoreRequest extends SamplingOptions {
  prompt: string | number[];
  maxTokens?: number;
}

export interface ChatCoreRequest extends SamplingOptions {
  messages: ChatMessage[];
  maxTokens?: number;
  stop?: string[];
}

export type FinishReason = "stop" | "length";

export interface RunResult {
  finishReason: FinishReason;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number; cached_tokens: number; prefilled_tokens: number };
  timings: { prefill_ms: number; decode_ms: number; prefill_tok_s: number; decode_tok_s: number };
  text: string;
  ids: number[];
}

export interface MemoryReport {
  /** Live and peak bytes per category, from the allocator every GPU buffer goes through. */
  measured: MemorySnapshot;
  /** The analytical estimator's bytes per category for this model, settings and the last run's length. */
  predicted: PredictedMemory;
  limits: { maxBufferSize: number; maxStorageBufferBindingSize: number };
}

interface Loaded {
  gpu: GpuContext;
  model: TransformerModel;
  engine: Engine;
  tokenizer: GgufTokenizer;
  header: GgufHeader;
  stopIds: Set<number>;
  chat: ChatSession | undefined;
  lastRun: { promptTokens: number; generatedTokens: number };
}

function kvFormatOf(kv: CoreLoadRequest["kv"]) {
  if (kv === undefined) return undefined;
  const [k, v] = typeof kv === "string" ? [kv, kv] : [kv.k, kv.v];
  return { k: parseKvSection(k, "k"), v: parseKvSection(v, "v") };
}

export class EngineCore {
  private loaded: Loaded | undefined;
  private readonly aborted = new Set<number>();

  private get current(): Loaded {
    if (!this.loaded) throw new UnloadedError();
    return this.loaded;
  }

  async load(request: CoreLoadRequest, onProgress: (progress: LoadProgress) => void): Promise<LoadInfo> {
    const start = performance.now();
    // WebGPU first: no adapter is a named error before any byte is downloaded.
    if (typeof navigator === "undefined" || !navigator.gpu) {
      throw new NoWebGpuError("WebGPU is not available in this browser (navigator.gpu is missing): use a recent Chrome on https or localhost");
    }
    const gpu = await acquireGpu().catch((error: Error) => {
      throw new NoWebGpuError(error.message);
    });
    try {
      const source = await this.source(request, onProgress);
      const header = await readGgufHeader(source);
      const tokenizer = createTokenizer(header);
      const total = header.tensors.reduce((n, t) => n + t.byteLength, 0);
      const uploadStart = performance.now();
      let compiling = false;
      const model = await TransformerModel.load(gpu, header, source, {
        contextSize: request.contextSize,
        kvBlockSize: request.blockSize,
        kvFormat: kvFormatOf(request.kv),
        attention: request.attention,
        maxSeqs: request.maxSeqs,
        ...(request.kvBudget === undefined ? {} : request.kvBudget <= 1 ? { kvBudgetFraction: request.kvBudget } : { kvBudgetBytes: request.kvBudget }),
        onProgress: (message, fraction) => {
          if (!message.startsWith("loading")) compiling = true;
          const bytes = Math.round(fraction * total);
          onProgress({ phase: compiling ? "compile" : "upload", bytes, total, fraction, bytesPerSecond: bytes / Math.max(1e-3, (performance.now() - uploadStart) / 1000) });
        },
      });
      onProgress({ phase: "compile", bytes: total, total, fraction: 1, bytesPerSecond: 0 });
      const engine = new Engine(model);
      const stopIds = new Set([...Array(model.config.vocabSize).keys()].filter((id) => tokenizer.isEndOfGeneration(id)));
      this.loaded = { gpu, model, engine, tokenizer, header, stopIds, chat: undefined, lastRun: { promptTokens: 0, generatedTokens: 0 } };
      let hasChatTemplate = true;
      try {
        chatTemplateOf(header);
      } catch {
        hasChatTemplate = false;
      }
      return {
        model: {
          name: typeof request.model === "string" ? request.model : (request.model as File).name ?? "blob",
          architecture: String(header.metadata.get("general.architecture") ?? "unknown"),
          contextLength: model.config.contextLength,
          vocabSize: model.config.vocabSize,
          layers: model.config.layers,
          hasChatTemplate,
          bytes: source.size,
        },
        adapter: { ...gpu.adapter, limits: gpu.limits },
        loadMs: performance.now() - start,
      };
    } catch (error) {
      gpu.memory.destroyAll();
      gpu.device.destroy();
      throw error;
    }
  }

  private async source(request: CoreLoadRequest, onProgress: (progress: LoadProgress) => void): Promise<ByteSource> {
    const model = request.model;
    if (typeof model !== "string") return blobSource(model);
    if (/^(https?:|blob:|\/|\.\/|\.\.\/)/.test(model)) {
      const url = new URL(model, globalThis.location?.href).href;
      return blobSource(await fetchModel(url, { sha256: request.sha256, onProgress }), url);
    }
    const entry = catalogEntry(model);
    if (!entry) throw new BadRequestError(`"${model}" is neither a URL nor a catalog model name (see CATALOG)`);
    const file = await fetchModel(entry.url, { sha256: request.sha256 ?? entry.sha256, bytes: entry.bytes, onProgress });
    return blobSource(file, entry.url);
  }

  abort(callId: number): void {
    this.aborted.add(callId);
  }

  /** Plain-prompt generation on a sequence of its own, freed at the end. */
  async generate(callId: number, request: GenerateCoreRequest, onToken: (id: number, text: string) => void): Promise<RunResult> {
    const { engine, tokenizer, stopIds } = this.current;
    const promptIds = typeof request.prompt === "string" ? tokenizer.encode(request.prompt, { addBos: tokenizer.addBosDefault }) : request.prompt;
    if (promptIds.length === 0) throw new BadRequestError("the prompt is empty");
    const bad = promptIds.find((id) => !Number.isInteger(id) || id < 0 || id >= engine.vocabSize);
    if (bad !== undefined) throw new BadRequestError(`token id ${bad} is outside the vocabulary of ${engine.vocabSize}`);
    const sampler = new Sampler(request);
    const maxTokens = request.maxTokens ?? 256;
    const decoder = tokenizer.createStreamDecoder();
    const sequence = engine.sequences.create();
    const ids: number[] = [];
    let finishReason: FinishReason = "length";
    const prefillStart = performance.now();
    let prefillMs = 0;
    try {
      let logits = await engine.prefill(sequence.id, promptIds, "last");
      prefillMs = performance.now() - prefillStart;
      while (ids.length < maxTokens) {
        this.throwIfAborted(callId);
        const id = sampler.sample(logits);
        if (stopIds.has(id)) {
          finishReason = "stop";
          break;
        }
        ids.push(id);
        onToken(id, decoder.push(id));
        if (ids.length === maxTokens || promptIds.length + ids.length >= engine.maxSequenceLength) break;
        const [result] = await engine.step([{ seqId: sequence.id, ids: [id], logits: "last" }]);
        logits = result!.logits;
      }
      const tail = decoder.flush();
      if (tail) onToken(-1, tail);
    } finally {
      engine.sequences.free(sequence.id);
      this.aborted.delete(callId);
    }
    this.current.lastRun = { promptTokens: promptIds.length, generatedTokens: ids.length };
    const decodeMs = performance.now() - prefillStart - prefillMs;
    return {
      finishReason,
      ids,
      text: tokenizer.decode(ids),
      usage: { prompt_tokens: promptIds.length, completion_tokens: ids.length, total_tokens: promptIds.length + ids.length, cached_tokens: 0, prefilled_tokens: promptIds.length },
      timings: { prefill_ms: prefillMs, decode_ms: decodeMs, prefill_tok_s: promptIds.length / (prefillMs / 1000), decode_tok_s: decodeMs > 0 ? ids.length / (decodeMs / 1000) : 0 },
    };
  }

  /**
   * A chat completion. The engine keeps one conversation's KV cache: a request whose messages extend the
   * previous one's prefills only the new tokens (the rest is reused, as llama.cpp's server does).
   */
  async chat(callId: number, request: ChatCoreRequest, onToken: (id: number, text: string) => void): Promise<RunResult> {
    const loaded = this.current;
    const { tokenizer } = loaded;
    if (!Array.isArray(request.messages) || request.messages.length === 0) throw new BadRequestError("messages must be a non-empty array");
    loaded.chat ??= new ChatSession(loaded.engine, chatTemplateOf(loaded.header), tokenizer, loaded.stopIds);
    const stops = (request.stop ?? []).filter((s) => s.length > 0);
    const hold = Math.max(0, ...stops.map((s) => s.length - 1));
    const decoder = tokenizer.createStreamDecoder();
    let text = "";
    let sent = 0;
    let stopHit = false;
    const emit = (upTo: number, id: number) => {
      if (upTo > sent) onToken(id, text.slice(sent, upTo));
      sent = Math.max(sent, upTo);
    };
    try {
      const result = await loaded.chat.turn(request.messages, {
        ...request,
        maxTokens: request.maxTokens ?? 256,
        shouldStop: () => stopHit || this.aborted.has(callId),
        onToken: (id) => {
          if (tokenizer.isEndOfGeneration(id)) return;
          text += decoder.push(id);
          const at = stops.map((s) => text.indexOf(s)).filter((i) => i >= 0);
          if (at.length > 0) {
            text = text.slice(0, Math.min(...at));
            stopHit = true;
            emit(text.length, id);
          } else emit(text.length - hold, id);
        },
      });
      if (this.aborted.has(callId)) throw new AbortedError();
      if (!stopHit) {
        text += decoder.flush();
        emit(text.length, -1);
      }
      const completion = result.usage.completion_tokens;
      loaded.lastRun = { promptTokens: result.usage.prompt_tokens, generatedTokens: completion };
      const { prefill_ms, decode_ms } = result.timings;
      return {
        finishReason: result.stopReason === "eos" || stopHit ? "stop" : "length",
        ids: result.outputIds,
        text,
        usage: {
          prompt_tokens: result.usage.prompt_tokens,
          completion_tokens: completion,
          total_tokens: result.usage.prompt_tokens + completion,
          cached_tokens: result.usage.cached_tokens,
          prefilled_tokens: result.usage.prefilled_tokens,
        },
        timings: { prefill_ms, decode_ms, prefill_tok_s: result.usage.prefilled_tokens / (prefill_ms / 1000), decode_tok_s: decode_ms > 0 ? completion / (decode_ms / 1000) : 0 },
      };
    } finally {
      this.aborted.delete(callId);
    }
  }

  /** Forgets the conversation kept for chat completions (frees its KV blocks). */
  resetChat(): void {
    this.current.chat?.close();
    this.current.chat = undefined;
  }

  private throwIfAborted(callId: number): void {
    if (this.aborted.has(callId)) throw new AbortedError();
  }

  memory(): MemoryReport {
    const { gpu, model, header, lastRun } = this.current;
    return {
      measured: gpu.memory.snapshot(),
      predicted: predictMemory(header, model, gpu.limits, lastRun),
      limits: { maxBufferSize: gpu.limits.maxBufferSize, maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize },
    };
  }

  kv(): KvMap {
    const { model, engine } = this.current;
    return kvMap(model, engine.sequences);
  }

  /** Destroys every buffer and the device; returns the live bytes left (0 in every category). */
  unload(): MemorySnapshot {
    const { gpu } = this.current;
    gpu.memory.destroyAll();
    const left = gpu.memory.snapshot();
    gpu.device.destroy();
    this.loaded = undefined;
    return left;
  }
}
