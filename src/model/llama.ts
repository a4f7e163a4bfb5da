// The Llama forward pass on the GPU. Loading uploads the weights (still quantized), allocates the KV
// pool and the activations, and records every kernel call once; a step then uploads its batch, encodes
// the recorded calls in one compute pass, and reads back the logits of the rows it asked for.
//
// Per layer l, for the step's tokens x: [n, dim]
//   xb = rmsnorm(x)·attn_norm          q, k, v = Wq·xb, Wk·xb, Wv·xb          rope(q, k)
//   K/V cache ← k, v                   att = attention(q, cache)             x += Wo·att
//   xb = rmsnorm(x)·ffn_norm           h = silu(Wgate·xb) ⊙ (Wup·xb)         x += Wdown·h
// then logits = Wout · rmsnorm(x[logit rows])·output_norm.

import type { GpuContext } from "../gpu/device.js";
import type { MemoryCategory } from "../gpu/memory.js";
import { dequantize } from "../gguf/quant.js";
import type { ByteSource } from "../gguf/source.js";
import type { GgufHeader, GgufTensorInfo } from "../gguf/types.js";
import { flashAttentionCalls, flashPartialBytes } from "../kernels/attention-flash.js";
import { AttentionScratchTooLargeError, naiveAttentionCalls, naiveScratchBytes } from "../kernels/attention-naive.js";
import { embeddingCalls } from "../kernels/embedding.js";
import type { BufferBinding } from "../gpu/pipelines.js";
import { GpuProfiler } from "../gpu/profiler.js";
import { encodeCalls, encodeCallsProfiled, type KernelCall, type StepSizes } from "../kernels/kernel-call.js";
import { kvAppendCall } from "../kernels/kv-append.js";
import { kvSealCalls } from "../kernels/kv-seal.js";
import { stepKvRows, stepKvValueOffset } from "../kernels/kv-shape.js";
import { matmulCalls } from "../kernels/matmul.js";
import { rmsnormCall } from "../kernels/rmsnorm.js";
import { ropeCall } from "../kernels/rope.js";
import { swigluCall } from "../kernels/swiglu.js";
import { chooseTuning, type KernelTuning } from "../kernels/tuning.js";
import { F32_KV, hasTail, validateKvFormat, type KvCacheFormat } from "../kv/formats.js";
import { KvPool, kvBlockBytes, type KvPoolShape } from "../kv/pool.js";
import { llamaConfigFromGguf, type LlamaConfig } from "./config.js";
import { StepBuffers, type StepBatch } from "./step.js";
import { assertGpuWeightType, weightRowBytes } from "./weight-layout.js";
import { WeightUploader, type GpuMatrix } from "./weights.js";

export type AttentionKind = "flash" | "naive";

export interface LlamaLoadOptions {
  /** Most tokens in one step (prefill chunk). */
  maxStepTokens?: number;
  /** Most sequences in one step. */
  maxSeqs?: number;
  kvBlockSize?: number;
  /** K and V formats of the cache (default f32 for both). */
  kvFormat?: KvCacheFormat;
  /** KV blocks per layer. Default: from kvBudgetBytes or kvBudgetFraction, else enough for maxSeqs
   *  sequences of the full context (capped by what one binding holds). */
  kvBlocks?: number;
  /** KV budget in bytes, all layers together. */
  kvBudgetBytes?: number;
  /** KV budget as a fraction of the most the adapter allows (one binding per layer). */
  kvBudgetFraction?: number;
  attention?: AttentionKind;
  /** Cap on one weight chunk / binding, below the adapter's limit (tests use it to force splitting). */
  maxBindingBytes?: number;
  /** Replaces tile/workgroup choices made from the adapter (benches and tests compare variants). */
  tuning?: Partial<KernelTuning>;
  onProgress?: (message: string, fraction: number) => void;
}

interface LayerWeights {
  attnNorm: GPUBuffer;
  wq: GpuMatrix;
  wk: GpuMatrix;
  wv: GpuMatrix;
  wo: GpuMatrix;
  ffnNorm: GPUBuffer;
  wGate: GpuMatrix;
  wUp: GpuMatrix;
  wDown: GpuMatrix;
}

interface RecordedCalls {
  /** Per layer: norm, q/k/v projections, rope, KV append. */
  beforeAttention: KernelCall[][];
  /** Per layer: output projection, FFN. */
  afterAttention: KernelCall[][];
  /** Final norm of the logit rows and the output head. */
  head: KernelCall[];
}

interface Activations {
  x: GPUBuffer;
  xb: GPUBuffer;
  q: GPUBuffer;
  /** This step's k rows, then v rows, in one buffer (attention reads both through one binding). */
  kvNew: { buffer: GPUBuffer; vOffsetBytes: number };
  k: BufferBinding;
  v: BufferBinding;
  att: GPUBuffer;
  gate: GPUBuffer;
  up: GPUBuffer;
  xLogits: GPUBuffer;
  logits: GPUBuffer;
  logitsReadback: GPUBuffer;
}

export class LlamaModel {
  /** Attention scratch: naive scores (grows with the step), or flash decode partials (fixed). */
  private attentionScratch: GPUBuffer | undefined;
  private attentionScratchCapacity = 0;
  private embedCalls: KernelCall[] = [];
  /** Layer calls recorded with matmul token tile 1 (single-token steps) and with the prefill tile. */
  private layerCalls: Record<"single" | "batch", RecordedCalls> = {
    single: { beforeAttention: [], afterAttention: [], head: [] },
    batch: { beforeAttention: [], afterAttention: [], head: [] },
  };
  /** Per layer: the attention calls. */
  private attentionCalls: KernelCall[][] = [];
  private assembled = new Map<string, KernelCall[]>();
  /** When set, every step times each kernel; `takeProfile()` returns the totals. */
  private profiler: GpuProfiler | undefined;
  private profile: Record<string, number> = {};

  private constructor(
    readonly gpu: GpuContext,
    readonly config: LlamaConfig,
    readonly tuning: KernelTuning,
    readonly kvPool: KvPool,
    readonly step: StepBuffers,
    readonly attention: AttentionKind,
    /** Largest weight chunk (one binding, or the test cap). */
    readonly weightChunkBytes: number,
    private readonly weights: { embedding: GpuMatrix; output: GpuMatrix; outputNorm: GPUBuffer; layers: LayerWeights[] },
    private readonly act: Activations,
  ) {}

  get maxStepTokens(): number {
    return this.step.capacity.maxTokens;
  }

  get maxLogitRows(): number {
    return this.step.capacity.maxLogitRows;
  }

  static async load(gpu: GpuContext, header: GgufHeader, source: ByteSource, options: LlamaLoadOptions = {}): Promise<LlamaModel> {
    const config = llamaConfigFromGguf(header);
    const tuning = { ...chooseTuning(gpu), ...options.tuning };
    const bindingLimit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    const uploader = new WeightUploader(gpu, Math.min(bindingLimit, options.maxBindingBytes ?? Infinity));
    const progress = options.onProgress ?? (() => undefined);

    // Weights, in file order of the graph, reporting progress by bytes.
    const totalBytes = header.tensors.reduce((n, t) => n + t.byteLength, 0);
    let loadedBytes = 0;
    const matrix = async (name: string): Promise<GpuMatrix> => {
      const tensor = header.tensorByName.get(name)!;
      assertGpuWeightType(name, tensor.type);
      const [cols, rows] = tensor.dims as [number, number];
      const rowBytes = weightRowBytes(tensor.type, cols).gguf;
      const uploaded = await uploader.matrix(name, tensor.type, rows, cols, (first, count) =>
        source.read(tensor.offset + first * rowBytes, count * rowBytes),
      );
      loadedBytes += tensor.byteLength;
      progress(`loading ${name}`, loadedBytes / totalBytes);
      return uploaded;
    };
    const vector = async (name: string): Promise<GPUBuffer> => {
      const tensor: GgufTensorInfo = header.tensorByName.get(name)!;
      const values = dequantize(tensor.type, await source.read(tensor.offset, tensor.byteLength), tensor.elementCount);
      loadedBytes += tensor.byteLength;
      return uploader.vector(name, values);
    };

    const embedding = await matrix("token_embd.weight");
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.layers; l++) {
      const p = `blk.${l}.`;
      layers.push({
        attnNorm: await vector(`${p}attn_norm.weight`),
        wq: await matrix(`${p}attn_q.weight`),
        wk: await matrix(`${p}attn_k.weight`),
        wv: await matrix(`${p}attn_v.weight`),
        wo: await matrix(`${p}attn_output.weight`),
        ffnNorm: await vector(`${p}ffn_norm.weight`),
        wGate: await matrix(`${p}ffn_gate.weight`),
        wUp: await matrix(`${p}ffn_up.weight`),
        wDown: await matrix(`${p}ffn_down.weight`),
      });
    }
    const outputNorm = await vector("output_norm.weight");
    const output = config.tiedOutput ? embedding : await matrix("output.weight");

    // KV pool: sized from the budget, or room for every sequence at full context.
    const maxSeqs = options.maxSeqs ?? 1;
    const blockSize = options.kvBlockSize ?? 16;
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 1024) throw new Error(`KV block size must be 1..1024 tokens, got ${blockSize}`);
    const kvShape = { layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim };
    const kvFormat = options.kvFormat ?? F32_KV;
    validateKvFormat({ blockSize, kvHeads: config.kvHeads, headDim: config.headDim }, kvFormat);
    const tails = hasTail(kvFormat) ? maxSeqs : 0;
    const kvBlocks = chooseKvBlocks(gpu, kvShape, blockSize, kvFormat, maxSeqs, config.contextLength, options, tails);
    const kvPool = await KvPool.create(gpu, kvShape, { blockSize, format: kvFormat, numBlocks: kvBlocks, tails });

    // Step inputs and activations, sized for the largest step.
    const maxStepTokens = options.maxStepTokens ?? 128;
    const maxLogitRows = Math.max(1, Math.min(maxStepTokens, Math.floor(bindingLimit / (config.vocabSize * 4))));
    const step = await StepBuffers.create(
      gpu,
      {
        maxTokens: maxStepTokens, maxSeqs, maxLogitRows,
        maxBlockTableEntries: maxSeqs * Math.ceil(config.contextLength / blockSize),
        maxSeals: Math.ceil(maxStepTokens / blockSize) + maxSeqs,
      },
      { ropeDim: config.ropeDim, freqBase: config.ropeFreqBase, freqScale: config.ropeFreqScale },
    );
    const act = await allocateActivations(gpu, config, maxStepTokens, maxLogitRows);

    const model = new LlamaModel(gpu, config, tuning, kvPool, step, options.attention ?? "flash", uploader.maxChunkBytes, { embedding, output, outputNorm, layers }, act);
    await model.recordCalls();
    return model;
  }

  /** Records every kernel call once; attention calls are (re)recorded by ensureAttentionScratch. */
  private async recordCalls(): Promise<void> {
    this.embedCalls = await embeddingCalls(this.gpu, this.step.uniform, this.weights.embedding, this.step.tokens, this.act.x, this.tuning.workgroupSize);
    this.layerCalls = { single: await this.recordLayerCalls(1), batch: await this.recordLayerCalls(this.tuning.prefillTokenTile) };
    const typicalDecode = { numTokens: 1, numSeqs: 1, numLogitRows: 1, maxContext: Math.min(256, this.config.contextLength), maxSeqTokens: 1, numDecodeSeqs: 1, numSeals: 0 };
    await this.ensureAttentionScratch(typicalDecode);
  }

  private async recordLayerCalls(tokenTile: number): Promise<RecordedCalls> {
    const { gpu, config: c, tuning, act, step, weights } = this;
    const wg = tuning.workgroupSize;
    const mm = (w: GpuMatrix, x: GPUBuffer, y: BufferBinding, yStride: number, accumulate: boolean, logitRows = false) =>
      matmulCalls(gpu, step.uniform, w, x, y, yStride, { tokenTile, accumulate, xRowsAreLogitRows: logitRows, workgroupSize: wg });
    const norm = (label: string, weight: GPUBuffer, gatherLogitRows: boolean) =>
      rmsnormCall(
        gpu,
        label,
        { step: step.uniform, x: act.x, weight, logitRows: step.logitRows, y: gatherLogitRows ? act.xLogits : act.xb },
        { dim: c.dim, eps: c.rmsEps, gatherLogitRows, workgroupSize: tuning.reduceWorkgroupSize },
      );
    const beforeAttention: KernelCall[][] = [];
    const afterAttention: KernelCall[][] = [];
    for (const [l, layer] of weights.layers.entries()) {
      beforeAttention.push([
        await norm(`layer ${l} attention norm`, layer.attnNorm, false),
        ...(await mm(layer.wq, act.xb, act.q, c.qHeads * c.headDim, false)),
        ...(await mm(layer.wk, act.xb, act.k, c.kvHeads * c.headDim, false)),
        ...(await mm(layer.wv, act.xb, act.v, c.kvHeads * c.headDim, false)),
        await ropeCall(gpu, `layer ${l} rope`, { step: step.uniform, cosSin: step.cosSin, q: act.q, k: act.k },
          { qHeads: c.qHeads, kvHeads: c.kvHeads, headDim: c.headDim, ropeDim: c.ropeDim, workgroupSize: wg }),
        ...(await kvSealCalls(gpu, `layer ${l} kv seal`,
          { step: step.uniform, seqs: step.seqs, blockTables: step.blockTables, seals: step.seals, k: act.k, v: act.v, kvPool: this.kvPool.layerBindings[l]! },
          { ...this.kvPool.kernelShape, workgroupSize: wg })),
        await kvAppendCall(gpu, `layer ${l} kv append`,
          { step: step.uniform, tokens: step.tokens, seqs: step.seqs, k: act.k, v: act.v, kvPool: this.kvPool.layerBindings[l]!, blockTables: step.blockTables },
          { ...this.kvPool.kernelShape, workgroupSize: wg }),
      ]);
      afterAttention.push([
        ...(await mm(layer.wo, act.att, act.x, c.dim, true)),
        await norm(`layer ${l} ffn norm`, layer.ffnNorm, false),
        ...(await mm(layer.wGate, act.xb, act.gate, c.ffnDim, false)),
        ...(await mm(layer.wUp, act.xb, act.up, c.ffnDim, false)),
        await swigluCall(gpu, `layer ${l} swiglu`, { step: step.uniform, up: act.up, gate: act.gate }, { ffnDim: c.ffnDim, workgroupSize: wg }),
        ...(await mm(layer.wDown, act.gate, act.x, c.dim, true)),
      ]);
    }
    const head = [
      await norm("output norm", weights.outputNorm, true),
      ...(await mm(weights.output, act.xLogits, act.logits, c.vocabSize, false, true)),
    ];
    return { beforeAttention, afterAttention, head };
  }

  /** The calls of a step: embedding, then per layer (projections, attention, FFN), then the head. */
  private callsFor(sizes: StepSizes): KernelCall[] {
    const tile = sizes.numTokens === 1 ? "single" : "batch";
    let calls = this.assembled.get(tile);
    if (!calls) {
      const parts = this.layerCalls[tile];
      const attention = this.attentionCalls;
      calls = [
        ...this.embedCalls,
        ...parts.beforeAttention.flatMap((layer, l) => [...layer, ...attention[l]!, ...parts.afterAttention[l]!]),
        ...parts.head,
      ];
      this.assembled.set(tile, calls);
    }
    return calls;
  }

  /**
   * Bytes of attention scratch a step needs: naive's score matrix (tokens × heads × context, the context
   * rounded up to 256 so decode does not reallocate every token), or flash decode's fixed partial states.
   */
  private scratchBytes(sizes: StepSizes): number {
    if (this.attention === "naive") return naiveScratchBytes({ ...sizes, maxContext: Math.ceil(sizes.maxContext / 256) * 256 }, this.config.qHeads);
    return flashPartialBytes(this.step.capacity.maxSeqs, this.config.qHeads, this.config.headDim, this.tuning);
  }

  /** Allocates (or grows) the attention scratch and records the attention calls bound to it. */
  private async ensureAttentionScratch(sizes: StepSizes): Promise<void> {
    const needed = this.scratchBytes(sizes);
    if (needed <= this.attentionScratchCapacity) return;
    const limit = Math.min(this.gpu.limits.maxStorageBufferBindingSize, this.gpu.limits.maxBufferSize);
    if (this.attention === "naive" && naiveScratchBytes(sizes, this.config.qHeads) > limit) {
      throw new AttentionScratchTooLargeError(
        `naive attention needs a ${sizes.numTokens}×${this.config.qHeads}×${sizes.maxContext} score matrix ` +
          `(${naiveScratchBytes(sizes, this.config.qHeads)} bytes), more than one storage binding allows (${limit} bytes); use --attention flash`,
      );
    }
    // Naive scratch grows to what the step needs (context rounded up to 256); flash partials are sized once.
    const capacity = Math.min(limit, needed);
    if (this.attentionScratch) this.gpu.memory.destroy(this.attentionScratch);
    const label = this.attention === "naive" ? "naive attention scores" : "flash decode partials";
    this.attentionScratch = await this.gpu.memory.allocate("attention_scratch", label, capacity, GPUBufferUsage.STORAGE);
    this.attentionScratchCapacity = capacity;

    const c = this.config;
    const shape = { ...this.kvPool.kernelShape, qHeads: c.qHeads, window: c.slidingWindow };
    this.attentionCalls = [];
    for (let l = 0; l < c.layers; l++) {
      const buffers = {
        step: this.step.uniform, tokens: this.step.tokens, seqs: this.step.seqs, blockTables: this.step.blockTables,
        kvPool: this.kvPool.layerBindings[l]!, q: this.act.q, out: this.act.att, kvNew: this.act.kvNew,
      };
      if (this.attention === "naive") {
        this.attentionCalls.push(await naiveAttentionCalls(this.gpu, `layer ${l} attention`, { ...buffers, scores: this.attentionScratch },
          { ...shape, workgroupSize: this.tuning.workgroupSize, reduceWorkgroupSize: this.tuning.reduceWorkgroupSize }));
      } else {
        this.attentionCalls.push(await flashAttentionCalls(this.gpu, `layer ${l} attention`, { ...buffers, partials: this.attentionScratch }, shape, this.tuning));
      }
    }
    this.assembled.clear();
  }

  /**
   * Runs one step: stores the batch's K/V in the cache and returns the logits of its logit rows,
   * [logitRows.length × vocab]. Block copies (copy-on-write) are performed first.
   */
  async forward(
    batch: StepBatch,
    blockCopies: { src: number; dst: number }[] = [],
    tailCopies: { src: number; dst: number }[] = [],
  ): Promise<Float32Array> {
    if (this.gpu.lostReason) throw new Error(this.gpu.lostReason);
    const sizes = this.step.write(batch);
    await this.ensureAttentionScratch(sizes);
    const device = this.gpu.device;
    // A validation error would otherwise only reach the console while we read back stale logits.
    device.pushErrorScope("validation");
    const encoder = device.createCommandEncoder({ label: "forward step" });
    this.kvPool.encodeBlockCopies(encoder, blockCopies);
    this.kvPool.encodeTailCopies(encoder, tailCopies);
    if (this.profiler) {
      encodeCallsProfiled(encoder, this.profiler, this.callsFor(sizes), sizes);
      this.profiler.encodeResolve(encoder);
    } else {
      const pass = encoder.beginComputePass({ label: "forward" });
      encodeCalls(pass, this.callsFor(sizes), sizes);
      pass.end();
    }
    const logitBytes = sizes.numLogitRows * this.config.vocabSize * 4;
    if (logitBytes > 0) encoder.copyBufferToBuffer(this.act.logits, 0, this.act.logitsReadback, 0, logitBytes);
    device.queue.submit([encoder.finish()]);
    const error = await device.popErrorScope();
    if (error) throw new Error(`GPU validation error in a forward step: ${error.message}`);
    if (this.profiler) {
      for (const [kind, ms] of Object.entries(await this.profiler.collect())) this.profile[kind] = (this.profile[kind] ?? 0) + ms;
    }
    if (logitBytes === 0) {
      await device.queue.onSubmittedWorkDone();
      return new Float32Array(0);
    }
    await this.act.logitsReadback.mapAsync(GPUMapMode.READ, 0, logitBytes);
    const logits = new Float32Array(this.act.logitsReadback.getMappedRange(0, logitBytes).slice(0));
    this.act.logitsReadback.unmap();
    if (this.gpu.lostReason) throw new Error(this.gpu.lostReason);
    return logits;
  }

  /** Starts timing every kernel of every step (timestamp queries; needs the adapter's timestamp-query). */
  enableProfiling(): void {
    if (!this.gpu.hasTimestamps) throw new Error("this adapter has no timestamp-query feature: kernel profiling is unavailable");
    this.profiler ??= new GpuProfiler(this.gpu.device);
  }

  /** Milliseconds of GPU time per kernel kind since the last call. */
  takeProfile(): Record<string, number> {
    const profile = this.profile;
    this.profile = {};
    return profile;
  }

  /** Frees every GPU buffer of the model. */
  dispose(): void {
    this.gpu.memory.destroyAll();
  }
}

function chooseKvBlocks(
  gpu: GpuContext, shape: KvPoolShape, blockSize: number, format: KvCacheFormat, maxSeqs: number, contextLength: number,
  options: LlamaLoadOptions, tails: number,
): number {
  const adapterMax = KvPool.maxBlocksPerLayer(gpu, shape, blockSize, format, tails);
  const blockBytesAllLayers = kvBlockBytes(shape, blockSize, format) * shape.layers;
  let blocks: number;
  if (options.kvBlocks !== undefined) blocks = options.kvBlocks;
  else if (options.kvBudgetBytes !== undefined) blocks = Math.floor(options.kvBudgetBytes / blockBytesAllLayers);
  else if (options.kvBudgetFraction !== undefined) {
    if (!(options.kvBudgetFraction > 0 && options.kvBudgetFraction <= 1)) throw new Error(`a KV budget fraction must be in (0, 1], got ${options.kvBudgetFraction}`);
    blocks = Math.floor(options.kvBudgetFraction * adapterMax);
  } else blocks = Math.min(maxSeqs * Math.ceil(contextLength / blockSize), adapterMax);
  if (!Number.isInteger(blocks) || blocks < 1) {
    throw new Error(
      `the KV budget holds no block: one block of ${blockSize} tokens takes ${blockBytesAllLayers} bytes across ${shape.layers} layers`,
    );
  }
  return blocks;
}

async function allocateActivations(gpu: GpuContext, c: LlamaConfig, maxTokens: number, maxLogitRows: number): Promise<Activations> {
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const buffer = (label: string, floats: number, category: MemoryCategory = "activations", usage = storage) =>
    gpu.memory.allocate(category, label, floats * 4, usage);
  const qDim = c.qHeads * c.headDim;
  const kvDim = c.kvHeads * c.headDim;
  const kvBytes = maxTokens * kvDim * 4;
  const vOffsetBytes = stepKvValueOffset(kvBytes, gpu.limits.minStorageBufferOffsetAlignment);
  const stepKv = stepKvRows(await buffer("k, v (this step)", (vOffsetBytes + kvBytes) / 4), kvBytes, vOffsetBytes);
  return {
    x: await buffer("x (residual stream)", maxTokens * c.dim),
    xb: await buffer("xb (normed)", maxTokens * c.dim),
    q: await buffer("q", maxTokens * qDim),
    ...stepKv,
    att: await buffer("attention output", maxTokens * qDim),
    gate: await buffer("ffn gate / h", maxTokens * c.ffnDim),
    up: await buffer("ffn up", maxTokens * c.ffnDim),
    xLogits: await buffer("x at logit rows", maxLogitRows * c.dim),
    logits: await buffer("logits", maxLogitRows * c.vocabSize),
    logitsReadback: await buffer("logits readback", maxLogitRows * c.vocabSize, "staging", GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
  };
}
