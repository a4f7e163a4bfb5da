// The runtime's API inside the page. The Node harness calls these through window.webkv (main.ts); a web
// app would call them directly. Each loaded model gets its own GPU device, so its memory report is its own.

import { ChatSession } from "../engine/chat.js";
import { chatTemplateOf, type ChatMessage } from "../engine/chat-template.js";
import { Engine } from "../engine/engine.js";
import { score, timingsOf } from "../engine/generate.js";
import type { SamplingOptions } from "../engine/sampler.js";
import { runScheduler, type ExhaustionPolicy, type SchedulerStats } from "../engine/scheduler.js";
import { acquireGpu, type AdapterDescription, type GpuContext, type GpuLimits } from "../gpu/device.js";
import { GpuMemory, type MemorySnapshot } from "../gpu/memory.js";
import { readGgufHeader } from "../gguf/reader.js";
import type { GgufHeader } from "../gguf/types.js";
import { bytesSource, urlSource } from "../gguf/source.js";
import type { ModelConfig } from "../model/config.js";
import { TransformerModel, type ModelLoadOptions } from "../model/forward.js";
import { Random } from "../gguf/random.js";
import { randomTokenIds } from "../engine/random-prompt.js";
import { formatName } from "../kv/formats.js";
import { createTokenizer, type GgufTokenizer } from "../tokenizer/index.js";
import { RequestError } from "../engine/errors.js";

export type RuntimeEvent =
  | { type: "progress"; message: string; fraction: number }
  | { type: "token"; id: number; text: string; request: number; branch: number };

export type EventSink = (event: RuntimeEvent) => void;

interface LoadedModel {
  gpu: GpuContext;
  model: TransformerModel;
  engine: Engine;
  tokenizer: GgufTokenizer;
  /** Ids that end generation (EOS, EOT, …). */
  stopIds: number[];
  header: GgufHeader;
  /** Open conversations, each holding its KV blocks between turns. */
  chats: Map<number, { session: ChatSession; stopRequested: boolean }>;
}

export interface AdapterReport extends AdapterDescription {
  limits: GpuLimits;
}

export interface LoadRequest {
  /** Where the GGUF is: a URL (read with range requests), or its bytes (the fuzzer, drag-and-drop). */
  url?: string;
  bytes?: Uint8Array;
  options?: Omit<ModelLoadOptions, "onProgress">;
}

/** The sizes the runtime settled on for a load (settings, not measurements): what an estimate needs. */
export interface LoadPlan {
  max_seqs: number;
  max_step_tokens: number;
  max_logit_rows: number;
  attention: "flash" | "naive";
  decode_max_chunks: number;
  weight_chunk_bytes: number;
}

export interface LoadResult {
  modelId: number;
  /** The model's configuration as plain data (the architecture description's functions stay in the page). */
  config: Omit<ModelConfig, "description">;
  load_ms: number;
  adapter: AdapterReport;
  memory: MemorySnapshot;
  kv: KvReport;
  plan: LoadPlan;
}

export interface PromptRequest extends SamplingOptions {
  prompt?: string;
  promptIds?: number[];
  /** With `prompt`: put BOS first (default: the vocabulary's add_bos_token). */
  addBos?: boolean;
  maxTokens: number;
  /** Generate maxTokens tokens even past end-of-generation ids (benches decode a fixed count). */
  ignoreEos?: boolean;
  keepLogits?: boolean;
  /** Continuations of this prompt sharing its KV blocks. */
  parallel?: number;
}

export interface GenerateRequest extends PromptRequest {
  modelId: number;
  stream?: boolean;
  policy?: ExhaustionPolicy;
}

export interface BatchRequest {
  modelId: number;
  requests: PromptRequest[];
  policy?: ExhaustionPolicy;
  /** Sequences decoding at once (default: the model's step capacity). */
  maxRunning?: number;
  /** Store common prompt prefixes' KV blocks once (default true; src/engine/scheduler.ts). */
  prefixSharing?: boolean;
  stream?: boolean;
}

/** KV cache figures of a run, from the live allocator. */
export interface KvReport {
  format: { k: string; v: string };
  block_size: number;
  blocks_total: number;
  /** Peak blocks in use during the run. */
  blocks_used: number;
  bytes: number;
  /** Block bytes per token per layer, K and V, scales included (the format's cost). */
  bytes_per_token_per_layer: number;
  /** Full-precision tails (quantized formats): the newest partial block of each live sequence. */
  tail_bytes: number;
  /** Token slots used / slots allocated, at the peak. */
  utilization: number;
  preemptions: number;
  /** Prompt tokens whose KV blocks were adopted from another sequence with the same prefix, not computed. */
  shared_prefix_tokens: number;
}

export class Runtime {
  private readonly models = new Map<number, LoadedModel>();
  private nextChatId = 1;
  /** Set by stop(): the running generation ends after its current step (Ctrl-C in webkv run). */
  private stopRequested = false;
  private device: GpuContext | undefined;
  private nextModelId = 1;

  constructor(private readonly emit: EventSink = () => undefined) {}

  private get(modelId: number): LoadedModel {
    const loaded = this.models.get(modelId);
    if (!loaded) throw new RequestError(`no model ${modelId} is loaded`);
    return loaded;
  }

  async adapter(): Promise<AdapterReport> {
    const gpu = await this.sharedGpu();
    return { ...gpu.adapter, limits: gpu.limits };
  }

  /**
   * One WebGPU device for every model of this page, each model with its own allocator on it. Compiled
   * pipelines are cached per device, so a second load compiles nothing; and unloading frees the model's
   * buffers without destroying the device (a device per load cost ~3 MiB of renderer memory a cycle). A lost
   * device is replaced at the next load.
   */
  private async sharedGpu(): Promise<GpuContext> {
    if (!this.device || this.device.lostReason) this.device = await acquireGpu();
    return this.device;
  }

  private async modelGpu(): Promise<GpuContext> {
    const shared = await this.sharedGpu();
    return { ...shared, memory: new GpuMemory(shared.device, shared.limits.maxBufferSize), get lostReason() { return shared.lostReason; } };
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    const start = performance.now();
    const progress = (message: string, fraction: number) => this.emit({ type: "progress", message, fraction });
    if ((request.url === undefined) === (request.bytes === undefined)) throw new RequestError("load needs exactly one of url or bytes");
    const source = request.bytes
      ? bytesSource(request.bytes, "model bytes")
      : await urlSource(request.url!, (loaded, total) => progress("downloading", loaded / total));
    const header = await readGgufHeader(source);
    const tokenizer = createTokenizer(header);
    const gpu = await this.modelGpu();
    try {
      const model = await TransformerModel.load(gpu, header, source, { ...request.options, onProgress: progress });
      const engine = new Engine(model);
      const modelId = this.nextModelId++;
      const stopIds = [...Array(model.config.vocabSize).keys()].filter((id) => tokenizer.isEndOfGeneration(id));
      this.models.set(modelId, { gpu, model, engine, tokenizer, stopIds, header, chats: new Map() });
      return {
        modelId,
        config: plainConfig(model.config),
        load_ms: performance.now() - start,
        adapter: { ...gpu.adapter, limits: gpu.limits },
        memory: gpu.memory.snapshot(),
        kv: kvReport(model),
        plan: {
          max_seqs: model.step.capacity.maxSeqs,
          max_step_tokens: model.maxStepTokens,
          max_logit_rows: model.maxLogitRows,
          attention: model.attention,
          decode_max_chunks: model.tuning.decodeMaxChunks,
          weight_chunk_bytes: model.weightChunkBytes,
        },
      };
    } catch (error) {
      gpu.memory.destroyAll();
      throw error;
    }
  }

  async generate(request: GenerateRequest) {
    const batch = await this.generateBatch({ modelId: request.modelId, requests: [request], policy: request.policy, stream: request.stream });
    // An exhausted pool is not thrown: what was produced is kept (stop_reason "kv_exhausted", `error` says why).
    const first = batch.outputs[0]![0]!;
    return {
      prompt_ids: batch.prompt_ids[0]!,
      output_ids: first.output_ids,
      text: first.text,
      stop_reason: first.stop_reason,
      outputs: batch.outputs[0]!,
      logits: first.logits,
      timings: batch.timings,
      memory: batch.memory,
      kv: batch.kv,
      error: batch.error,
    };
  }

  /** Many prompts (each possibly with parallel continuations) through continuous batching. */
  async generateBatch(request: BatchRequest) {
    const { engine, tokenizer, gpu, model, stopIds } = this.get(request.modelId);
    const promptIds = request.requests.map((r) => r.promptIds ?? tokenizer.encode(r.prompt ?? "", { addBos: r.addBos ?? tokenizer.addBosDefault }));
    const decoders = new Map<string, ReturnType<GgufTokenizer["createStreamDecoder"]>>();
    gpu.memory.resetPeaks();
    this.stopRequested = false;
    const { outputs, stats } = await runScheduler(
      engine,
      request.requests.map((r, i) => ({ ...r, promptIds: promptIds[i]!, stopIds: r.ignoreEos ? [] : stopIds })),
      {
        policy: request.policy,
        maxRunning: request.maxRunning,
        prefixSharing: request.prefixSharing,
        shouldStop: () => this.stopRequested,
        onToken: request.stream
          ? (req, branch, id) => {
              const key = `${req}/${branch}`;
              if (!decoders.has(key)) decoders.set(key, tokenizer.createStreamDecoder());
              this.emit({ type: "token", id, text: decoders.get(key)!.push(id), request: req, branch });
            }
          : undefined,
      },
    );
    for (const [key, decoder] of decoders) {
      const tail = decoder.flush();
      const [req, branch] = key.split("/").map(Number) as [number, number];
      if (tail) this.emit({ type: "token", id: -1, text: tail, request: req, branch });
    }
    return {
      prompt_ids: promptIds,
      outputs: outputs.map((branches) =>
        branches.map((o) => ({ output_ids: o.outputIds, text: tokenizer.decode(o.outputIds), stop_reason: o.stopReason, logits: o.logits })),
      ),
      timings: timingsOf(stats),
      stats,
      memory: gpu.memory.snapshot(),
      kv: kvReport(model, stats),
      error: stats.error,
    };
  }

  /**
   * Fills the KV cache with sequences of the given lengths (random ids, prefilled for real), reports how
   * the pool is used with all of them alive, then frees them (the fragmentation bench).
   */
  async kvOccupancy(request: { modelId: number; lengths: number[]; seed?: number }) {
    const { engine, model } = this.get(request.modelId);
    const random = new Random(request.seed ?? 1);
    const ids: number[] = [];
    const start = performance.now();
    try {
      for (const length of request.lengths) {
        const sequence = engine.sequences.create();
        ids.push(sequence.id);
        const tokens = randomTokenIds(random, length, engine.vocabSize);
        await engine.prefill(sequence.id, tokens, "none");
      }
      const { usedSlots, allocatedSlots } = engine.sequences.utilization();
      const pool = model.kvPool;
      return {
        sequences: request.lengths.length,
        tokens: usedSlots,
        slots_allocated: allocatedSlots,
        blocks_used: engine.sequences.allocator.usedBlocks,
        blocks_total: pool.settings.numBlocks,
        block_size: pool.settings.blockSize,
        bytes_per_block_all_layers: pool.blockBytes * pool.shape.layers,
        pool_bytes: pool.totalBytes,
        utilization: usedSlots / allocatedSlots,
        prefill_ms: performance.now() - start,
      };
    } finally {
      for (const id of ids) engine.sequences.free(id);
    }
  }

  async score(request: { modelId: number; ids: number[]; keepLogits?: boolean }) {
    const { engine, gpu } = this.get(request.modelId);
    gpu.memory.resetPeaks();
    const result = await score(engine, request.ids, request.keepLogits ?? false);
    return { ...result, memory: gpu.memory.snapshot() };
  }

  tokenize(request: { modelId: number; text: string; addBos?: boolean }): number[] {
    return this.get(request.modelId).tokenizer.encode(request.text, { addBos: request.addBos ?? false });
  }

  /** Bytes webkv holds on the GPU over every loaded model, and how many models (the soak bench's baseline check). */
  liveBytes(): { bytes: number; models: number } {
    let bytes = 0;
    for (const loaded of this.models.values()) bytes += loaded.gpu.memory.snapshot().total.live;
    return { bytes, models: this.models.size };
  }

  /** The text of token ids (benches build prompts of a given token count this way). */
  detokenize(request: { modelId: number; ids: number[] }): string {
    return this.get(request.modelId).tokenizer.decode(request.ids);
  }

  memory(request: { modelId: number }): MemorySnapshot {
    return this.get(request.modelId).gpu.memory.snapshot();
  }

  /** Turns on per-kernel GPU timing for this model (benches). */
  profile(request: { modelId: number; enable?: boolean }): Record<string, number> {
    const { model } = this.get(request.modelId);
    if (request.enable) model.enableProfiling();
    return model.takeProfile();
  }

  /**
   * What the forward steps since the last call cost the CPU: dispatches, awaited GPU round trips and bytes read
   * back, in total and for the last step (src/model/forward.ts StepCounters).
   */
  counters(request: { modelId: number }) {
    return this.get(request.modelId).model.takeCounters();
  }

  /** The model's live GPU buffers, largest first: what each allocation is and its category. */
  buffers(request: { modelId: number; limit?: number }) {
    return this.get(request.modelId).gpu.memory.liveBuffers().slice(0, request.limit ?? 20);
  }

  /** Opens a conversation on a loaded model (its chat template is checked now, not at the first turn). */
  chatOpen(request: { modelId: number }): { chatId: number } {
    const loaded = this.get(request.modelId);
    const session = new ChatSession(loaded.engine, chatTemplateOf(loaded.header), loaded.tokenizer, new Set(loaded.stopIds));
    const chatId = this.nextChatId++;
    loaded.chats.set(chatId, { session, stopRequested: false });
    return { chatId };
  }

  /**
   * One turn: the whole conversation so far (system/user/assistant messages, ending with the user's), of which
   * only the tokens not already in the conversation's KV cache are prefilled. Streams "token" events when asked.
   */
  async chatTurn(request: { modelId: number; chatId: number; messages: ChatMessage[]; maxTokens: number; stream?: boolean; templateVariables?: Record<string, unknown> } & SamplingOptions) {
    const { tokenizer, gpu, model } = this.get(request.modelId);
    const chat = this.chat(request.modelId, request.chatId);
    chat.stopRequested = false;
    const decoder = tokenizer.createStreamDecoder();
    gpu.memory.resetPeaks();
    const result = await chat.session.turn(request.messages, {
      ...request,
      render: { variables: request.templateVariables },
      shouldStop: () => chat.stopRequested,
      onToken: request.stream
        ? (id) => this.emit({ type: "token", id, text: tokenizer.isEndOfGeneration(id) ? "" : decoder.push(id), request: 0, branch: 0 })
        : undefined,
    });
    if (request.stream) {
      const tail = decoder.flush();
      if (tail) this.emit({ type: "token", id: -1, text: tail, request: 0, branch: 0 });
    }
    const replyIds = result.outputIds.filter((id) => !tokenizer.isEndOfGeneration(id));
    return {
      output_ids: result.outputIds,
      text: tokenizer.decode(replyIds),
      stop_reason: result.stopReason,
      usage: result.usage,
      timings: {
        ...result.timings,
        prefill_tok_s: result.usage.prefilled_tokens / (result.timings.prefill_ms / 1000),
        decode_tok_s: result.timings.decode_ms > 0 ? result.usage.completion_tokens / (result.timings.decode_ms / 1000) : 0,
      },
      memory: gpu.memory.snapshot(),
      kv: kvReport(model),
    };
  }

  /** Ends the running generation after its current step; its outputs so far come back with stop_reason "aborted". */
  stop(): void {
    this.stopRequested = true;
  }

  /** Ends the running reply of a conversation after the current step (Ctrl-C in `webkv chat`). */
  chatStop(request: { modelId: number; chatId: number }): void {
    this.chat(request.modelId, request.chatId).stopRequested = true;
  }

  chatClose(request: { modelId: number; chatId: number }): void {
    const { chats } = this.get(request.modelId);
    this.chat(request.modelId, request.chatId).session.close();
    chats.delete(request.chatId);
  }

  private chat(modelId: number, chatId: number) {
    const chat = this.get(modelId).chats.get(chatId);
    if (!chat) throw new RequestError(`no conversation ${chatId} is open on model ${modelId}`);
    return chat;
  }

  unload(request: { modelId: number }): void {
    const loaded = this.get(request.modelId);
    loaded.gpu.memory.destroyAll();
    this.models.delete(request.modelId);
  }

  /** Parses a GGUF header from bytes (the malformed-input tests run this inside the page). */
  async parseGguf(request: { bytes: Uint8Array }) {
    const header = await readGgufHeader(bytesSource(request.bytes, "page bytes"));
    return { version: header.version, tensors: header.tensors.length, metadata: header.metadata.size };
  }
}

function plainConfig(config: ModelConfig): Omit<ModelConfig, "description"> {
  const { description: _description, ...plain } = config;
  return plain;
}

function kvReport(model: TransformerModel, stats?: SchedulerStats): KvReport {
  const pool = model.kvPool;
  return {
    format: { k: formatName(pool.settings.format.k), v: formatName(pool.settings.format.v) },
    block_size: pool.settings.blockSize,
    blocks_total: pool.settings.numBlocks,
    blocks_used: stats?.peakBlocksUsed ?? 0,
    bytes: pool.totalBytes,
    bytes_per_token_per_layer: pool.bytesPerTokenPerLayer,
    tail_bytes: pool.tailBytesTotal,
    utilization: stats && stats.slotsAllocatedAtPeak > 0 ? stats.slotsUsedAtPeak / stats.slotsAllocatedAtPeak : 0,
    preemptions: stats?.preemptions ?? 0,
    shared_prefix_tokens: stats?.sharedPrefixTokens ?? 0,
  };
}
