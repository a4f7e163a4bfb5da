// The runtime's API inside the harness page: what the CLI, the GPU tests and the benches call through
// window.webkv (main.ts). Loading, generation and chat are the library's: each loaded model is an EngineCore
// (src/lib/core.ts), the same code createEngine runs in its worker, so the CLI and the library cannot drift
// apart. On top of a core's model this page adds what only the harness needs: batches of prompts, scoring,
// tokenizing, KV occupancy, per-kernel profiles, step counters, the live buffer list, GGUF parsing.

import type { ChatMessage } from "../engine/chat-template.js";
import { score, timingsOf } from "../engine/generate.js";
import type { SamplingOptions } from "../engine/sampler.js";
import type { ExhaustionPolicy, SchedulerStats } from "../engine/scheduler.js";
import { acquireGpu, type AdapterDescription, type GpuContext, type GpuLimits } from "../gpu/device.js";
import { GpuMemory, type MemorySnapshot } from "../gpu/memory.js";
import { readGgufHeader } from "../gguf/reader.js";
import { bytesSource, urlSource } from "../gguf/source.js";
import type { ModelConfig } from "../model/config.js";
import type { ModelLoadOptions, TransformerModel } from "../model/forward.js";
import { Random } from "../gguf/random.js";
import { randomTokenIds } from "../engine/random-prompt.js";
import { formatName } from "../kv/formats.js";
import { RequestError } from "../engine/errors.js";
import { EngineCore, type DeviceLease, type PromptRequest, type PromptTokenSink } from "../lib/core.js";
import type { LoadPhase } from "../lib/progress.js";

export type RuntimeEvent =
  | { type: "progress"; message: string; fraction: number }
  | { type: "token"; id: number; text: string; request: number; branch: number };

export type EventSink = (event: RuntimeEvent) => void;

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
  /** Greedy decode steps in flight at once (tuning.chainDepth). */
  chain_depth: number;
  /** Whether Q8_0/Q4_0 matmul inputs are quantized to int8 blocks (tuning.int8Activations, where a matrix takes them). */
  int8_activations: boolean;
  /** Whether q, k and v of one weight type run as one stacked matrix (tuning.fuseQkv). */
  fuse_qkv: boolean;
  /** Whether gate and up run as one matmul with the GLU paired in its epilogue (some layer's; gateUpPaired). */
  fuse_gate_up: boolean;
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

export interface ChatTurnRequest extends SamplingOptions {
  modelId: number;
  chatId: number;
  messages: ChatMessage[];
  maxTokens: number;
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

/** The progress line's words for the library's load phases. */
const PHASE_WORDS: Record<LoadPhase, string> = { download: "downloading", verify: "verifying", upload: "loading weights", compile: "compiling" };

export class Runtime {
  /** The loaded models, each on a core of its own. */
  private readonly models = new Map<number, EngineCore>();
  private nextModelId = 1;
  /** Generations and chat turns in flight, so that stop() and chatStop() can abort them on their core. */
  private readonly inFlight = new Map<number, { core: EngineCore; chatId?: number }>();
  private nextCallId = 1;
  private device: GpuContext | undefined;
  /**
   * One WebGPU device for every model of this page, each model with its own allocator on it. Compiled
   * pipelines are cached per device, so a second load compiles nothing; and unloading frees the model's
   * buffers without destroying the device (a device per load cost ~3 MiB of renderer memory a cycle). A lost
   * device is replaced at the next load.
   */
  private readonly sharedDevice: DeviceLease = {
    acquire: async () => {
      const shared = await this.sharedGpu();
      return { ...shared, memory: new GpuMemory(shared.device, shared.limits.maxBufferSize, shared.limits.maxTextureDimension2D), get lostReason() { return shared.lostReason; } };
    },
    release: () => undefined,
  };

  constructor(private readonly emit: EventSink = () => undefined) {}

  private core(modelId: number): EngineCore {
    const core = this.models.get(modelId);
    if (!core) throw new RequestError(`no model ${modelId} is loaded`);
    return core;
  }

  private loaded(modelId: number) {
    return this.core(modelId).loaded;
  }

  async adapter(): Promise<AdapterReport> {
    const gpu = await this.sharedGpu();
    return { ...gpu.adapter, limits: gpu.limits };
  }

  private async sharedGpu(): Promise<GpuContext> {
    if (!this.device || this.device.lostReason) this.device = await acquireGpu();
    return this.device;
  }

  /** Runs a call on a core, registered so that a stop request can reach it. */
  private async track<T>(core: EngineCore, chatId: number | undefined, call: (callId: number) => Promise<T>): Promise<T> {
    const callId = this.nextCallId++;
    this.inFlight.set(callId, { core, chatId });
    try {
      return await call(callId);
    } finally {
      this.inFlight.delete(callId);
    }
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    if ((request.url === undefined) === (request.bytes === undefined)) throw new RequestError("load needs exactly one of url or bytes");
    const core = new EngineCore(this.sharedDevice);
    const info = await core.loadModel(
      {
        name: request.url ?? "model bytes",
        // The harness serves the file next to the page: read by range requests as tensors load, not cached.
        open: async () => (request.bytes ? bytesSource(request.bytes, "model bytes") : urlSource(request.url!)),
        options: request.options ?? {},
      },
      (progress) => this.emit({ type: "progress", message: PHASE_WORDS[progress.phase], fraction: progress.fraction }),
    );
    const { gpu, model } = core.loaded;
    const modelId = this.nextModelId++;
    this.models.set(modelId, core);
    return {
      modelId,
      config: plainConfig(model.config),
      load_ms: info.loadMs,
      adapter: info.adapter,
      memory: gpu.memory.snapshot(),
      kv: kvReport(model),
      plan: {
        max_seqs: model.step.capacity.maxSeqs,
        max_step_tokens: model.maxStepTokens,
        max_logit_rows: model.maxLogitRows,
        attention: model.attention,
        decode_max_chunks: model.tuning.decodeMaxChunks,
        chain_depth: model.chainDepth,
        int8_activations: model.int8Activations,
        fuse_qkv: model.tuning.fuseQkv,
        fuse_gate_up: model.fusedGateUp,
        weight_chunk_bytes: model.weightChunkBytes,
      },
    };
  }

  /** One prompt (with --parallel continuations): `webkv run`. */
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
    const core = this.core(request.modelId);
    const { gpu, model } = core.loaded;
    gpu.memory.resetPeaks();
    const onToken: PromptTokenSink | undefined = request.stream
      ? (req, branch, id, text) => this.emit({ type: "token", id, text, request: req, branch })
      : undefined;
    const { policy, maxRunning, prefixSharing } = request;
    const run = await this.track(core, undefined, (callId) => core.runPrompts(callId, request.requests, { policy, maxRunning, prefixSharing }, onToken));
    const { stats } = run;
    return {
      prompt_ids: run.promptIds,
      outputs: run.outputs.map((branches) => branches.map((o) => ({ output_ids: o.outputIds, text: o.text, stop_reason: o.stopReason, logits: o.logits }))),
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
    const { engine, model } = this.loaded(request.modelId);
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
    const { engine, gpu } = this.loaded(request.modelId);
    gpu.memory.resetPeaks();
    const result = await score(engine, request.ids, request.keepLogits ?? false);
    return { ...result, memory: gpu.memory.snapshot() };
  }

  tokenize(request: { modelId: number; text: string; addBos?: boolean }): number[] {
    return this.loaded(request.modelId).tokenizer.encode(request.text, { addBos: request.addBos ?? false });
  }

  /** Bytes webkv holds on the GPU over every loaded model, and how many models (the soak bench's baseline check). */
  liveBytes(): { bytes: number; models: number } {
    let bytes = 0;
    for (const core of this.models.values()) bytes += core.loaded.gpu.memory.snapshot().total.live;
    return { bytes, models: this.models.size };
  }

  /** The text of token ids (benches build prompts of a given token count this way). */
  detokenize(request: { modelId: number; ids: number[] }): string {
    return this.loaded(request.modelId).tokenizer.decode(request.ids);
  }

  memory(request: { modelId: number }): MemorySnapshot {
    return this.loaded(request.modelId).gpu.memory.snapshot();
  }

  /** Turns on per-kernel GPU timing for this model (benches). */
  profile(request: { modelId: number; enable?: boolean }): Record<string, number> {
    const { model } = this.loaded(request.modelId);
    if (request.enable) model.enableProfiling();
    return model.takeProfile();
  }

  /**
   * What the forward steps since the last call cost the CPU: dispatches, awaited GPU round trips and bytes read
   * back, in total and for the last step (src/model/forward.ts StepCounters).
   */
  counters(request: { modelId: number }) {
    return this.loaded(request.modelId).model.takeCounters();
  }

  /** The model's live GPU buffers, largest first: what each allocation is and its category. */
  buffers(request: { modelId: number; limit?: number }) {
    return this.loaded(request.modelId).gpu.memory.liveBuffers().slice(0, request.limit ?? 20);
  }

  /** Opens a conversation on a loaded model (its chat template is checked now, not at the first turn). */
  chatOpen(request: { modelId: number }): { chatId: number } {
    return { chatId: this.core(request.modelId).openChat() };
  }

  /**
   * One turn: the whole conversation so far (system/user/assistant messages, ending with the user's), of which
   * only the tokens not already in the conversation's KV cache are prefilled. Streams "token" events when asked.
   */
  async chatTurn(request: ChatTurnRequest) {
    const core = this.core(request.modelId);
    const { gpu, model, tokenizer } = core.loaded;
    gpu.memory.resetPeaks();
    const { modelId: _modelId, chatId, stream, ...turnRequest } = request;
    const onToken = stream ? (id: number, text: string) => this.emit({ type: "token", id, text, request: 0, branch: 0 }) : () => undefined;
    const turn = await this.track(core, chatId, (callId) => core.chatTurn(callId, chatId, turnRequest, onToken));
    return {
      output_ids: turn.outputIds,
      // The reply decoded whole (the first piece's space prefix dropped, as llama.cpp's detokenizer does).
      text: tokenizer.decode(turn.outputIds.filter((id) => !tokenizer.isEndOfGeneration(id))),
      stop_reason: turn.stopReason,
      usage: turn.usage,
      timings: turn.timings,
      memory: gpu.memory.snapshot(),
      kv: kvReport(model),
    };
  }

  /** Ends the running generation after its current step; its outputs so far come back with stop_reason "aborted". */
  stop(): void {
    for (const [callId, call] of this.inFlight) if (call.chatId === undefined) call.core.abort(callId);
  }

  /** Ends the running reply of a conversation after the current step (Ctrl-C in `webkv chat`): stop_reason "stopped". */
  chatStop(request: { modelId: number; chatId: number }): void {
    const core = this.core(request.modelId);
    for (const [callId, call] of this.inFlight) if (call.core === core && call.chatId === request.chatId) core.abort(callId);
  }

  chatClose(request: { modelId: number; chatId: number }): void {
    this.core(request.modelId).closeChat(request.chatId);
  }

  unload(request: { modelId: number }): void {
    this.core(request.modelId).unload();
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
