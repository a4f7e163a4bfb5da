// The engine's runtime side: a loaded model and the requests made of it — load, generate, chat, memory, the
// KV map, unload. It runs wherever a host puts it: the library's dedicated worker (worker.ts) or the page's
// main thread, and the CLI's harness page (src/app/runtime.ts), which holds one core per loaded model. So the
// CLI and the library load, generate and chat through this one file: a fix here reaches both.
//
// The public requests (CoreLoadRequest, GenerateCoreRequest, ChatCoreRequest) are translated into the
// runtime's own terms (ModelLoadOptions, the scheduler's requests, conversations by id); the harness page
// calls those lower methods directly, with the options its command line parses.

import { ChatSession, type ChatTurnResult } from "../engine/chat.js";
import { chatTemplateOf, type ChatMessage } from "../engine/chat-template.js";
import { Engine } from "../engine/engine.js";
import type { SamplingOptions } from "../engine/sampler.js";
import { runScheduler, type ExhaustionPolicy, type SchedulerStats, type StopReason } from "../engine/scheduler.js";
import { acquireGpu, type AdapterDescription, type GpuContext, type GpuLimits } from "../gpu/device.js";
import type { MemorySnapshot } from "../gpu/memory.js";
import { readGgufHeader } from "../gguf/reader.js";
import { blobSource, readAhead, type ByteSource } from "../gguf/source.js";
import type { GgufHeader } from "../gguf/types.js";
import { TransformerModel, type ModelLoadOptions } from "../model/forward.js";
import { parseKvSection } from "../kv/formats.js";
import { createTokenizer, type GgufTokenizer, type StreamDecoder } from "../tokenizer/index.js";
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

/** Where a model's GPU device comes from, and what is done with it once the model's buffers are destroyed. */
export interface DeviceLease {
  acquire(): Promise<GpuContext>;
  release(gpu: GpuContext): void;
}

/** The library's lease: a device of the engine's own, destroyed with it. */
const deviceOfItsOwn: DeviceLease = {
  acquire: () => acquireGpu(),
  release: (gpu) => gpu.device.destroy(),
};

/** A model to load, in the runtime's terms: a name for reports, how to open its bytes, and its settings. */
export interface ModelToLoad {
  name: string;
  /** Called once the device is acquired, so that nothing is downloaded without WebGPU. */
  open(onProgress: (progress: LoadProgress) => void): Promise<ByteSource>;
  options: Omit<ModelLoadOptions, "onProgress">;
}

/** A loaded model and what its requests run on (the harness page builds its own methods on these). */
export interface LoadedModel {
  gpu: GpuContext;
  model: TransformerModel;
  engine: Engine;
  tokenizer: GgufTokenizer;
  header: GgufHeader;
  /** Ids that end generation (EOS, EOT, …). */
  stopIds: number[];
}

/** One prompt for the scheduler: text (BOS per `addBos`, else the vocabulary's rule) or ids used as given. */
export interface PromptRequest extends SamplingOptions {
  prompt?: string;
  promptIds?: number[];
  addBos?: boolean;
  maxTokens: number;
  /** Generate maxTokens tokens even past end-of-generation ids (benches decode a fixed count). */
  ignoreEos?: boolean;
  keepLogits?: boolean;
  /** Continuations of this prompt sharing its KV blocks. */
  parallel?: number;
}

export interface PromptBatchOptions {
  policy?: ExhaustionPolicy;
  /** Sequences decoding at once (default: the model's step capacity). */
  maxRunning?: number;
  /** Store common prompt prefixes' KV blocks once (default true; src/engine/scheduler.ts). */
  prefixSharing?: boolean;
}

export interface PromptOutput {
  outputIds: number[];
  text: string;
  stopReason: StopReason;
  logits?: Float32Array[];
}

export interface PromptBatchResult {
  promptIds: number[][];
  /** outputs[request][branch]. */
  outputs: PromptOutput[][];
  stats: SchedulerStats;
}

/** Streamed text of one branch of one prompt (a flushed tail comes with id -1). */
export type PromptTokenSink = (request: number, branch: number, id: number, text: string) => void;

export interface ChatTurnRequest extends SamplingOptions {
  messages: ChatMessage[];
  maxTokens: number;
  /** Strings that end the reply before them (the OpenAI `stop`). */
  stop?: string[];
}

export interface ChatTurnOutcome extends ChatTurnResult {
  /** The reply as streamed: end-of-generation ids left out, cut before a stop string. */
  text: string;
  /** A stop string ended the reply (its stop reason is then "stopped" too). */
  stopString: boolean;
  timings: RunResult["timings"];
}

function kvFormatOf(kv: CoreLoadRequest["kv"]) {
  if (kv === undefined) return undefined;
  const [k, v] = typeof kv === "string" ? [kv, kv] : [kv.k, kv.v];
  return { k: parseKvSection(k, "k"), v: parseKvSection(v, "v") };
}

/** The library's load settings as the model's. */
function modelOptionsOf(request: CoreLoadRequest): Omit<ModelLoadOptions, "onProgress"> {
  const { kvBudget } = request;
  return {
    contextSize: request.contextSize,
    kvBlockSize: request.blockSize,
    kvFormat: kvFormatOf(request.kv),
    attention: request.attention,
    maxSeqs: request.maxSeqs,
    ...(kvBudget === undefined ? {} : kvBudget <= 1 ? { kvBudgetFraction: kvBudget } : { kvBudgetBytes: kvBudget }),
  };
}

/** A model's load reads its file at least this many bytes at a time (gguf/source.ts readAhead). */
const LOAD_READ_AHEAD = 32 << 20;

const perSecond = (tokens: number, ms: number) => (ms > 0 ? tokens / (ms / 1000) : 0);

export class EngineCore {
  private current: LoadedModel | undefined;
  /** Open conversations, each holding its KV blocks between turns. */
  private readonly chats = new Map<number, ChatSession>();
  private nextChatId = 1;
  /** The conversation chat() continues: the library keeps one per engine. */
  private libraryChat: number | undefined;
  private lastRun = { promptTokens: 0, generatedTokens: 0 };
  private readonly aborted = new Set<number>();

  constructor(private readonly devices: DeviceLease = deviceOfItsOwn) {}

  /** The loaded model; UnloadedError when there is none. */
  get loaded(): LoadedModel {
    if (!this.current) throw new UnloadedError();
    return this.current;
  }

  /** The library's load: a URL (cached in OPFS), a Blob/File or a catalog name, with the library's settings. */
  load(request: CoreLoadRequest, onProgress: (progress: LoadProgress) => void): Promise<LoadInfo> {
    const name = typeof request.model === "string" ? request.model : (request.model as File).name ?? "blob";
    return this.loadModel({ name, open: (progress) => this.source(request, progress), options: modelOptionsOf(request) }, onProgress);
  }

  async loadModel(toLoad: ModelToLoad, onProgress: (progress: LoadProgress) => void): Promise<LoadInfo> {
    const start = performance.now();
    // WebGPU first: no adapter is a named error before any byte is downloaded.
    if (typeof navigator === "undefined" || !navigator.gpu) {
      throw new NoWebGpuError("WebGPU is not available in this browser (navigator.gpu is missing): use a recent Chrome on https or localhost");
    }
    const gpu = await this.devices.acquire().catch((error: Error) => {
      throw new NoWebGpuError(error.message);
    });
    try {
      const source = readAhead(await toLoad.open(onProgress), LOAD_READ_AHEAD);
      const header = await readGgufHeader(source);
      const tokenizer = createTokenizer(header);
      const total = header.tensors.reduce((n, t) => n + t.byteLength, 0);
      const uploadStart = performance.now();
      let compiling = false;
      const model = await TransformerModel.load(gpu, header, source, {
        ...toLoad.options,
        onProgress: (message, fraction) => {
          if (!message.startsWith("loading")) compiling = true;
          const bytes = Math.round(fraction * total);
          onProgress({ phase: compiling ? "compile" : "upload", bytes, total, fraction, bytesPerSecond: bytes / Math.max(1e-3, (performance.now() - uploadStart) / 1000) });
        },
      });
      onProgress({ phase: "compile", bytes: total, total, fraction: 1, bytesPerSecond: 0 });
      const engine = new Engine(model);
      const stopIds = [...Array(model.config.vocabSize).keys()].filter((id) => tokenizer.isEndOfGeneration(id));
      this.current = { gpu, model, engine, tokenizer, header, stopIds };
      let hasChatTemplate = true;
      try {
        chatTemplateOf(header);
      } catch {
        hasChatTemplate = false;
      }
      return {
        model: {
          name: toLoad.name,
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
      this.devices.release(gpu);
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

  /** Ends the call's generation after the step in flight. */
  abort(callId: number): void {
    this.aborted.add(callId);
  }

  /**
   * Prompts through the continuous-batching scheduler, each with its continuations: the library's generate is
   * one of them, `webkv run` one with --parallel continuations, the benches' batches many. An abort ends every
   * sequence with stop reason "aborted", keeping what it produced; so does a full KV pool under the "refuse"
   * policy ("kv_exhausted", stats.error says why).
   */
  async runPrompts(callId: number, prompts: PromptRequest[], options: PromptBatchOptions, onToken?: PromptTokenSink): Promise<PromptBatchResult> {
    const { engine, tokenizer, stopIds } = this.loaded;
    const promptIds = prompts.map((p) => p.promptIds ?? tokenizer.encode(p.prompt ?? "", { addBos: p.addBos ?? tokenizer.addBosDefault }));
    /** One stream decoder per branch, so a character split across tokens comes out whole. */
    const decoders = new Map<string, { request: number; branch: number; decoder: StreamDecoder }>();
    try {
      const { outputs, stats } = await runScheduler(
        engine,
        prompts.map((p, i) => ({ ...p, promptIds: promptIds[i]!, stopIds: p.ignoreEos ? [] : stopIds })),
        {
          ...options,
          shouldStop: () => this.aborted.has(callId),
          onToken: onToken && ((request, branch, id) => {
            const key = `${request}/${branch}`;
            if (!decoders.has(key)) decoders.set(key, { request, branch, decoder: tokenizer.createStreamDecoder() });
            onToken(request, branch, id, decoders.get(key)!.decoder.push(id));
          }),
        },
      );
      for (const { request, branch, decoder } of decoders.values()) {
        const tail = decoder.flush();
        if (tail) onToken!(request, branch, -1, tail);
      }
      this.lastRun = {
        promptTokens: Math.max(0, ...promptIds.map((ids) => ids.length)),
        generatedTokens: Math.max(0, ...outputs.flat().map((o) => o.outputIds.length)),
      };
      return {
        promptIds,
        outputs: outputs.map((branches) => branches.map((o) => ({ ...o, text: tokenizer.decode(o.outputIds) }))),
        stats,
      };
    } finally {
      this.aborted.delete(callId);
    }
  }

  /** The library's generate: one prompt, its tokens streamed without the end-of-generation id. */
  async generate(callId: number, request: GenerateCoreRequest, onToken: (id: number, text: string) => void): Promise<RunResult> {
    const { prompt, maxTokens = 256, ...sampling } = request;
    const { tokenizer, stopIds } = this.loaded;
    const ends = new Set(stopIds);
    const asked: PromptRequest = { ...sampling, maxTokens, ...(typeof prompt === "string" ? { prompt } : { promptIds: prompt }) };
    const run = await this.runPrompts(callId, [asked], {}, (_request, _branch, id, text) => {
      if (!ends.has(id)) onToken(id, text);
    });
    const output = run.outputs[0]![0]!;
    if (output.stopReason === "aborted") throw new AbortedError();
    const ids = output.stopReason === "eos" ? output.outputIds.slice(0, -1) : output.outputIds;
    const promptTokens = run.promptIds[0]!.length;
    const { prefillMs, decodeMs } = run.stats;
    return {
      // A sequence alone in the pool stops when the pool is full ("kv_exhausted") as it does at the context's end.
      finishReason: output.stopReason === "eos" ? "stop" : "length",
      ids,
      text: tokenizer.decode(ids),
      usage: { prompt_tokens: promptTokens, completion_tokens: ids.length, total_tokens: promptTokens + ids.length, cached_tokens: 0, prefilled_tokens: promptTokens },
      timings: { prefill_ms: prefillMs, decode_ms: decodeMs, prefill_tok_s: perSecond(promptTokens, prefillMs), decode_tok_s: perSecond(ids.length, decodeMs) },
    };
  }

  /** Opens a conversation on the model (its chat template is checked now, not at the first turn). */
  openChat(): number {
    const { engine, header, tokenizer, stopIds } = this.loaded;
    const session = new ChatSession(engine, chatTemplateOf(header), tokenizer, new Set(stopIds));
    const chatId = this.nextChatId++;
    this.chats.set(chatId, session);
    return chatId;
  }

  /**
   * One turn of a conversation: the whole conversation so far (ending with the user's message), of which only
   * the tokens not already in its KV cache are prefilled. The reply's text streams through onToken, held back
   * while it could still be the start of a stop string.
   */
  async chatTurn(callId: number, chatId: number, request: ChatTurnRequest, onToken: (id: number, text: string) => void): Promise<ChatTurnOutcome> {
    const { tokenizer } = this.loaded;
    const session = this.chats.get(chatId);
    if (!session) throw new BadRequestError(`no conversation ${chatId} is open`);
    if (!Array.isArray(request.messages) || request.messages.length === 0) throw new BadRequestError("messages must be a non-empty array");
    const stops = (request.stop ?? []).filter((s) => s.length > 0);
    const hold = Math.max(0, ...stops.map((s) => s.length - 1));
    const decoder = tokenizer.createStreamDecoder();
    let text = "";
    let sent = 0;
    let stopString = false;
    const emit = (upTo: number, id: number) => {
      if (upTo > sent) onToken(id, text.slice(sent, upTo));
      sent = Math.max(sent, upTo);
    };
    try {
      const result = await session.turn(request.messages, {
        ...request,
        shouldStop: () => stopString || this.aborted.has(callId),
        onToken: (id) => {
          if (tokenizer.isEndOfGeneration(id)) return;
          text += decoder.push(id);
          const at = stops.map((s) => text.indexOf(s)).filter((i) => i >= 0);
          if (at.length > 0) {
            text = text.slice(0, Math.min(...at));
            stopString = true;
            emit(text.length, id);
          } else emit(text.length - hold, id);
        },
      });
      if (!stopString) {
        text += decoder.flush();
        emit(text.length, -1);
      }
      this.lastRun = { promptTokens: result.usage.prompt_tokens, generatedTokens: result.usage.completion_tokens };
      const { prefill_ms, decode_ms } = result.timings;
      return {
        ...result,
        text,
        stopString,
        timings: { prefill_ms, decode_ms, prefill_tok_s: perSecond(result.usage.prefilled_tokens, prefill_ms), decode_tok_s: perSecond(result.usage.completion_tokens, decode_ms) },
      };
    } finally {
      this.aborted.delete(callId);
    }
  }

  /** Frees a conversation's KV blocks. */
  closeChat(chatId: number): void {
    const session = this.chats.get(chatId);
    if (!session) throw new BadRequestError(`no conversation ${chatId} is open`);
    session.close();
    this.chats.delete(chatId);
  }

  /**
   * The library's chat completion, on the one conversation the engine keeps: a request whose messages extend
   * the previous one's prefills only the new tokens (the rest is reused, as llama.cpp's server does).
   */
  async chat(callId: number, request: ChatCoreRequest, onToken: (id: number, text: string) => void): Promise<RunResult> {
    this.libraryChat ??= this.openChat();
    const { maxTokens = 256, ...rest } = request;
    const turn = await this.chatTurn(callId, this.libraryChat, { ...rest, maxTokens }, onToken);
    if (turn.stopReason === "stopped" && !turn.stopString) throw new AbortedError();
    const { prompt_tokens, completion_tokens, cached_tokens, prefilled_tokens } = turn.usage;
    return {
      finishReason: turn.stopReason === "eos" || turn.stopString ? "stop" : "length",
      ids: turn.outputIds,
      text: turn.text,
      usage: { prompt_tokens, completion_tokens, total_tokens: prompt_tokens + completion_tokens, cached_tokens, prefilled_tokens },
      timings: turn.timings,
    };
  }

  /** Forgets the conversation kept for chat completions (frees its KV blocks). */
  resetChat(): void {
    if (this.libraryChat !== undefined) this.closeChat(this.libraryChat);
    this.libraryChat = undefined;
  }

  memory(): MemoryReport {
    const { gpu, model, header } = this.loaded;
    return {
      measured: gpu.memory.snapshot(),
      predicted: predictMemory(header, model, gpu.limits, this.lastRun),
      limits: { maxBufferSize: gpu.limits.maxBufferSize, maxStorageBufferBindingSize: gpu.limits.maxStorageBufferBindingSize },
    };
  }

  kv(): KvMap {
    const { model, engine } = this.loaded;
    return kvMap(model, engine.sequences);
  }

  /** Destroys every buffer of the model and hands the device back; returns the live bytes left (0 in every category). */
  unload(): MemorySnapshot {
    const { gpu } = this.loaded;
    gpu.memory.destroyAll();
    const left = gpu.memory.snapshot();
    this.devices.release(gpu);
    this.current = undefined;
    this.chats.clear();
    this.libraryChat = undefined;
    return left;
  }
}
