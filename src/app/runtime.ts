// The runtime's API inside the page. The Node harness calls these through window.webkv (main.ts); a web
// app would call them directly. Each loaded model gets its own GPU device, so its memory report is its own.

import { Engine } from "../engine/engine.js";
import { generate, score } from "../engine/generate.js";
import type { SamplingOptions } from "../engine/sampler.js";
import { acquireGpu, type AdapterDescription, type GpuContext, type GpuLimits } from "../gpu/device.js";
import type { MemorySnapshot } from "../gpu/memory.js";
import { readGgufHeader } from "../gguf/reader.js";
import { bytesSource, urlSource } from "../gguf/source.js";
import type { LlamaConfig } from "../model/config.js";
import { LlamaModel, type LlamaLoadOptions } from "../model/llama.js";
import { createTokenizer, type GgufTokenizer } from "../tokenizer/index.js";

export type RuntimeEvent =
  | { type: "progress"; message: string; fraction: number }
  | { type: "token"; id: number; text: string };

export type EventSink = (event: RuntimeEvent) => void;

interface LoadedModel {
  gpu: GpuContext;
  model: LlamaModel;
  engine: Engine;
  tokenizer: GgufTokenizer;
}

export interface AdapterReport extends AdapterDescription {
  limits: GpuLimits;
}

export interface LoadRequest {
  url: string;
  options?: Omit<LlamaLoadOptions, "onProgress">;
}

export interface LoadResult {
  modelId: number;
  config: LlamaConfig;
  load_ms: number;
  adapter: AdapterReport;
  memory: MemorySnapshot;
  kv: { block_size: number; blocks_total: number; bytes: number; bytes_per_token_per_layer: number };
}

export interface GenerateRequest extends SamplingOptions {
  modelId: number;
  prompt?: string;
  promptIds?: number[];
  /** With `prompt`: put BOS first (default: the vocabulary's add_bos_token). */
  addBos?: boolean;
  maxTokens: number;
  keepLogits?: boolean;
  stream?: boolean;
}

export class Runtime {
  private readonly models = new Map<number, LoadedModel>();
  private nextModelId = 1;

  constructor(private readonly emit: EventSink = () => undefined) {}

  private get(modelId: number): LoadedModel {
    const loaded = this.models.get(modelId);
    if (!loaded) throw new Error(`no model ${modelId} is loaded`);
    return loaded;
  }

  async adapter(): Promise<AdapterReport> {
    const gpu = await acquireGpu();
    const report = { ...gpu.adapter, limits: gpu.limits };
    gpu.device.destroy();
    return report;
  }

  async load(request: LoadRequest): Promise<LoadResult> {
    const start = performance.now();
    const progress = (message: string, fraction: number) => this.emit({ type: "progress", message, fraction });
    const source = await urlSource(request.url, (loaded, total) => progress("downloading", loaded / total));
    const header = await readGgufHeader(source);
    const tokenizer = createTokenizer(header);
    const gpu = await acquireGpu();
    try {
      const model = await LlamaModel.load(gpu, header, source, { ...request.options, onProgress: progress });
      const engine = new Engine(model);
      const modelId = this.nextModelId++;
      this.models.set(modelId, { gpu, model, engine, tokenizer });
      const pool = model.kvPool;
      return {
        modelId,
        config: model.config,
        load_ms: performance.now() - start,
        adapter: { ...gpu.adapter, limits: gpu.limits },
        memory: gpu.memory.snapshot(),
        kv: {
          block_size: pool.settings.blockSize,
          blocks_total: pool.settings.numBlocks,
          bytes: pool.totalBytes,
          bytes_per_token_per_layer: pool.bytesPerTokenPerLayer,
        },
      };
    } catch (error) {
      gpu.memory.destroyAll();
      gpu.device.destroy();
      throw error;
    }
  }

  async generate(request: GenerateRequest) {
    const { engine, tokenizer, gpu } = this.get(request.modelId);
    const promptIds = request.promptIds ?? tokenizer.encode(request.prompt ?? "", { addBos: request.addBos ?? tokenizer.addBosDefault });
    const stream = tokenizer.createStreamDecoder();
    const stopIds = [...Array(engine.vocabSize).keys()].filter((id) => tokenizer.isEndOfGeneration(id));
    gpu.memory.resetPeaks();
    const result = await generate(engine, promptIds, {
      ...request,
      stopIds,
      onToken: request.stream ? (id) => this.emit({ type: "token", id, text: stream.push(id) }) : undefined,
    });
    const tail = request.stream ? stream.flush() : "";
    if (tail) this.emit({ type: "token", id: -1, text: tail });
    const { usedSlots, allocatedSlots } = engine.sequences.utilization();
    return {
      prompt_ids: promptIds,
      output_ids: result.outputIds,
      text: tokenizer.decode(result.outputIds),
      stop_reason: result.stopReason,
      timings: result.timings,
      logits: result.logits,
      memory: gpu.memory.snapshot(),
      kv_slots: { used: usedSlots, allocated: allocatedSlots },
    };
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

  memory(request: { modelId: number }): MemorySnapshot {
    return this.get(request.modelId).gpu.memory.snapshot();
  }

  unload(request: { modelId: number }): void {
    const loaded = this.get(request.modelId);
    loaded.gpu.memory.destroyAll();
    loaded.gpu.device.destroy();
    this.models.delete(request.modelId);
  }

  /** Parses a GGUF header from bytes (the malformed-input tests run this inside the page). */
  async parseGguf(request: { bytes: Uint8Array }) {
    const header = await readGgufHeader(bytesSource(request.bytes, "page bytes"));
    return { version: header.version, tensors: header.tensors.length, metadata: header.metadata.size };
  }
}
