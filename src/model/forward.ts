// The forward pass on the GPU, assembled from an architecture description (src/model/architecture.ts)
// over the shared kernels. Loading uploads the weights (still quantized), allocates the KV pool and the
// activations, and records every kernel call once; a step then uploads its batch, encodes the recorded
// calls in one compute pass, and reads back the logits of the rows it asked for — or, for greedy steps,
// only their argmax ids (4 bytes a row). A step waits on the GPU once: for that readback. Validation
// errors are caught by an error scope that is not awaited; one surfaces at the next step (or readback),
// naming the step that caused it.
//
// Per layer l, for the step's tokens x: [n, dim]   (optional parts in brackets, chosen by the description)
//   xb = rmsnorm(x)·attn_norm          q, k, v = Wq·xb [+bq], Wk·xb [+bk], Wv·xb [+bv]   (norm folded into the matmuls: fuseNorm;
//                                      one matmul over [Wq; Wk; Wv]: fuseQkv)
//   [q, k = headnorm(q, k)]            rope(q, k) with the layer's RoPE table     K/V cache ← k, v   (one dispatch: ropeInAppend)
//   att = attention(q, cache) with the layer's window [and soft-cap]
//   x += Wo·att [+bo]                  or [x += rmsnorm(Wo·att)·post_attention_norm]
//   xb = rmsnorm(x)·ffn_norm           h = act(Wgate·xb) ⊙ (Wup·xb)        act = silu | gelu-tanh (GLU folded into Wup: fuseGlu;
//                                      one matmul over [Wgate; Wup] interleaved by row: fuseGateUp)
//   x += Wdown·h                       or [x += rmsnorm(Wdown·h)·post_ffw_norm]
// with x = embedding [× √dim] at the start and logits = Wout · rmsnorm(x[logit rows])·output_norm [softcapped].
// q, k and v of one weight type are uploaded stacked (Phi-3's fused attn_qkv as it is), gate and up interleaved
// where they are paired (qkvFused, gateUpPaired); otherwise fused tensors are uploaded as their parts.

import type { GpuContext } from "../gpu/device.js";
import type { MemoryCategory } from "../gpu/memory.js";
import { assertFiniteTensor } from "../gguf/finite.js";
import { dequantize } from "../gguf/quant.js";
import type { ByteSource } from "../gguf/source.js";
import type { GgufHeader, GgufTensorInfo } from "../gguf/types.js";
import { flashAttentionCalls, flashPartialBytes } from "../kernels/attention-flash.js";
import { AttentionScratchTooLargeError, naiveAttentionCalls, naiveScratchBytes } from "../kernels/attention-naive.js";
import { argmaxCall } from "../kernels/argmax.js";
import { embeddingCalls } from "../kernels/embedding.js";
import type { BufferBinding } from "../gpu/pipelines.js";
import { GpuProfiler } from "../gpu/profiler.js";
import { encodeCalls, encodeCallsProfiled, type KernelCall, type StepSizes } from "../kernels/kernel-call.js";
import { kvAppendCall } from "../kernels/kv-append.js";
import { kvSealCalls } from "../kernels/kv-seal.js";
import { stepKvRows, stepKvValueOffset } from "../kernels/kv-shape.js";
import { INT8_INPUT_MIN_WEIGHTS, int8InputApplies, matmulCalls, pairsGateUpRows, type MatmulKernel, type QkvOutput } from "../kernels/matmul.js";
import { int8RowWords, quantizeXCall } from "../kernels/quantize-x.js";
import { gluCall } from "../kernels/glu.js";
import { headNormCall } from "../kernels/head-norm.js";
import { pointwiseCall } from "../kernels/pointwise.js";
import { rmsnormCall } from "../kernels/rmsnorm.js";
import { ropeCall } from "../kernels/rope.js";
import { chooseTuning, type KernelTuning } from "../kernels/tuning.js";
import { F32_KV, hasTail, isQuantized, validateKvFormat, type KvCacheFormat } from "../kv/formats.js";
import { KvPool, kvBlockBytes, type KvPoolShape } from "../kv/pool.js";
import { modelConfigFromGguf, type ModelConfig } from "./config.js";
import type { RopeAngles } from "./rope.js";
import { StepBuffers, type StepBatch } from "./step.js";
import { assertGpuWeightType, isGpuWeightType, isWeightRowGroup, rowsPerChunk, weightRowBytes } from "./weight-layout.js";
import { WeightUploader, type GpuMatrix } from "./weights.js";
import { RequestError } from "../engine/errors.js";

export type AttentionKind = "flash" | "naive";

/** The argmax kernel's id for a logit row holding NaN or ±Inf (shaders/argmax.wgsl). */
export const NON_FINITE_ROW = 0xffffffff;

/** A step's logits hold NaN or ±Inf: the numbers are garbage, so no token is sampled from them. */
export class NonFiniteLogitsError extends Error {
  readonly code = "non_finite_logits";
}

export interface ModelLoadOptions {
  /** Context the runtime serves (default and maximum: the model's context_length). */
  contextSize?: number;
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
  /** KV budget as a fraction of the largest useful pool: maxSeqs sequences at full context, capped by one binding per layer. */
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
  /** [Wq; Wk; Wv] as one matrix (tuning.fuseQkv, where the three share a weight type), or [Wq, Wk, Wv]. */
  qkv: [GpuMatrix] | [GpuMatrix, GpuMatrix, GpuMatrix];
  wo: GpuMatrix;
  ffnNorm: GPUBuffer;
  /** [Wgate; Wup] interleaved by row as one matrix (gateUpPaired), or [Wgate, Wup]. */
  gateUp: [GpuMatrix] | [GpuMatrix, GpuMatrix];
  wDown: GpuMatrix;
  /** Projection biases present in the file, by tensor suffix ("attn_q.bias", …). */
  biases: Map<string, GPUBuffer>;
  /** Per-head q/k norm weights [head_dim] (qkNorm architectures). */
  qNorm?: GPUBuffer;
  kNorm?: GPUBuffer;
  /** Norms of the attention and FFN outputs (postNorms architectures). */
  postAttentionNorm?: GPUBuffer;
  postFfnNorm?: GPUBuffer;
}

interface RecordedCalls {
  /** Per layer: norm, q/k/v projections, rope, KV append. */
  beforeAttention: KernelCall[][];
  /** Per layer: output projection, FFN. */
  afterAttention: KernelCall[][];
  /** Final norm of the logit rows and the output head. */
  head: KernelCall[];
}

/** What a step reads back: the logit rows, or only each row's argmax id (greedy sampling on the GPU). */
export type StepReadback = "logits" | "argmax";

/** A step on the GPU; result() waits for it (see TransformerModel.submit). */
export interface SubmittedStep {
  result(): Promise<Float32Array | Uint32Array>;
}

/** What the decode loop costs the CPU: per forward step, kernel dispatches and waits on the GPU. */
export interface StepCounters {
  steps: number;
  /** Compute dispatches encoded (block/tail copies and the readback copy are not dispatches). */
  dispatches: number;
  /** Awaited CPU↔GPU round trips (buffer maps, queue drains, error scopes). */
  syncs: number;
  /** Bytes mapped back to the CPU. */
  readbackBytes: number;
  /** Steps queued chained, before the previous step's ids were back: their sync overlaps the GPU's work. */
  chained: number;
  /** The same, for the last step alone. */
  last: { dispatches: number; syncs: number; readbackBytes: number; numTokens: number; chained: boolean };
}

interface Activations {
  x: GPUBuffer;
  xb: GPUBuffer;
  /** This step's k rows, then v rows, then q rows, in one buffer (attention reads k and v through one binding; a
   *  fused q/k/v matmul writes all three through one). */
  kvNew: { buffer: GPUBuffer; vOffsetBytes: number };
  q: { buffer: GPUBuffer; offset: number; size: number };
  k: BufferBinding;
  v: BufferBinding;
  att: GPUBuffer;
  gate: GPUBuffer;
  up: GPUBuffer;
  /** Wo·att and Wdown·h before their post-norm (postNorms architectures only). */
  projected?: GPUBuffer;
  xLogits: GPUBuffer;
  logits: GPUBuffer;
  logitsReadback: GPUBuffer;
  /** Argmax id of each logit row (greedy steps), and its readback: one buffer per step in flight, used in turn. */
  argmaxIds: GPUBuffer;
  argmaxReadback: GPUBuffer[];
  /** A single-token step's matmul input quantized to int8 blocks (tuning.int8Activations), sized for the widest such input. */
  xInt8?: GPUBuffer;
}

export class TransformerModel {
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
  /** Argmax of the logit rows (after the head). */
  private argmaxCall: KernelCall | undefined;
  private stepNumber = 0;
  /** A validation error of an earlier step, reported by its (unawaited) error scope. */
  private pendingError: Error | undefined;
  private counters: StepCounters = emptyCounters();

  private constructor(
    readonly gpu: GpuContext,
    readonly config: ModelConfig,
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

  /** Steps that may be in flight at once (tuning.chainDepth): as many argmax readbacks, used in turn. */
  get chainDepth(): number {
    return this.act.argmaxReadback.length;
  }

  /** Whether steps may be chained (Engine.submit): with a chain depth above 1, and not while kernels are profiled (one timestamp readback). */
  get canChain(): boolean {
    return this.chainDepth > 1 && this.profiler === undefined;
  }

  /** Whether some layer runs gate and up as one paired matmul (gateUpPaired). */
  get fusedGateUp(): boolean {
    return this.weights.layers.some((layer) => layer.gateUp.length === 1);
  }

  /** Whether matmul inputs are quantized to int8 blocks for the Q8_0/Q4_0 matrices (an int8 input buffer exists). */
  get int8Activations(): boolean {
    return this.act.xInt8 !== undefined;
  }

  get maxLogitRows(): number {
    return this.step.capacity.maxLogitRows;
  }

  static async load(gpu: GpuContext, header: GgufHeader, source: ByteSource, options: ModelLoadOptions = {}): Promise<TransformerModel> {
    const config = modelConfigFromGguf(header, { contextSize: options.contextSize });
    const contextLength = Math.min(options.contextSize ?? config.contextLength, config.contextLength);
    if (!Number.isInteger(contextLength) || contextLength < 1) throw new RequestError(`context size must be a positive integer, got ${options.contextSize}`);
    const arch = config.description;
    const tuning = { ...chooseTuning(gpu), ...options.tuning };
    const bindingLimit = Math.min(gpu.limits.maxStorageBufferBindingSize, gpu.limits.maxBufferSize);
    if (!(isWeightRowGroup(tuning.weightRowGroup) && tuning.weightRowGroup <= 64)) {
      throw new RequestError(`the weight row group must be a power of two from 1 to 64, got ${tuning.weightRowGroup}`);
    }
    const uploader = new WeightUploader(gpu, Math.min(bindingLimit, options.maxBindingBytes ?? Infinity), tuning.weightRowGroup, tuning.weightTexels);
    const progress = options.onProgress ?? (() => undefined);

    // Weights, in file order of the graph, reporting progress by bytes.
    const totalBytes = header.tensors.reduce((n, t) => n + t.byteLength, 0);
    let loadedBytes = 0;
    const values = async (name: string): Promise<Float32Array> => {
      const tensor: GgufTensorInfo = header.tensorByName.get(name)!;
      const bytes = await source.read(tensor.offset, tensor.byteLength);
      assertFiniteTensor(name, tensor.type, bytes);
      return dequantize(tensor.type, bytes, tensor.elementCount);
    };
    /**
     * Parts (a tensor from its firstRow, `rows` rows) of one type and row length as one matrix: stacked (one part: a
     * tensor or rows of it; [Wq; Wk; Wv]) or, for two parts of equal rows, interleaved by row (row 2i the first's row i,
     * row 2i+1 the second's: gate, up), named `gpuName` on the GPU. Progress counts each part's share of its tensor's bytes.
     */
    const combinedMatrix = async (
      name: string, parts: { name: string; firstRow: number; rows: number }[], order: "stacked" | "interleaved", gpuName = name,
    ): Promise<GpuMatrix> => {
      const tensors = parts.map((part) => header.tensorByName.get(part.name)!);
      const { type, dims: [cols] } = tensors[0]!;
      assertGpuWeightType(tensors[0]!.name, type);
      if (tensors.some((t) => t.type !== type || t.dims[0] !== cols)) throw new Error(`${name}: its parts must share a type and a row length`);
      const rowBytes = weightRowBytes(type, cols!).gguf;
      const totalRows = parts.reduce((n, part) => n + part.rows, 0);
      const firstPlace = parts.map((_, i) => parts.slice(0, i).reduce((n, part) => n + part.rows, 0)); // stacked
      return uploader.allocateMatrix(gpuName, type, totalRows, cols!, async (first, count) => {
        let bytes: Uint8Array | undefined;
        for (const [i, part] of parts.entries()) {
          // rows [from, to) of the part land in [first, first + count): stacked at firstPlace + r, interleaved at 2r + i
          const [from, to] = order === "stacked"
            ? [Math.max(first - firstPlace[i]!, 0), Math.min(first + count - firstPlace[i]!, part.rows)]
            : [Math.max(Math.ceil((first - i) / 2), 0), Math.min(Math.floor((first + count - 1 - i) / 2) + 1, part.rows)];
          if (from >= to) continue;
          const read = await source.read(tensors[i]!.offset + (part.firstRow + from) * rowBytes, (to - from) * rowBytes);
          assertFiniteTensor(part.name, type, read, (part.firstRow + from) * cols!); // a cheap scan while uploading
          if (order === "stacked" && to - from === count) return read; // the whole chunk from one part
          bytes ??= new Uint8Array(count * rowBytes);
          if (order === "stacked") bytes.set(read, (firstPlace[i]! + from - first) * rowBytes);
          else for (let r = from; r < to; r++) bytes.set(read.subarray((r - from) * rowBytes, (r - from + 1) * rowBytes), (2 * r + i - first) * rowBytes);
        }
        return bytes!;
      }, () => {
        for (const [i, part] of parts.entries()) loadedBytes += (tensors[i]!.byteLength * part.rows) / tensors[i]!.dims[1]!;
        progress(`loading ${name}`, loadedBytes / totalBytes);
      }, (first) => {
        // the file offset of the chunk's first row: in its part (stacked), or in the first part (interleaved)
        const i = order === "stacked" ? Math.max(0, firstPlace.findLastIndex((place) => place <= first)) : 0;
        const row = order === "stacked" ? first - firstPlace[i]! : Math.floor(first / 2);
        return tensors[i]!.offset + (parts[i]!.firstRow + row) * rowBytes;
      });
    };
    /** A matrix, or rows [firstRow, firstRow + rowCount) of it as a matrix of its own (fused tensors). */
    const matrix = (name: string, part?: { label: string; firstRow: number; rowCount: number }): Promise<GpuMatrix> =>
      combinedMatrix(name, [{ name, firstRow: part?.firstRow ?? 0, rows: part?.rowCount ?? header.tensorByName.get(name)!.dims[1]! }], "stacked",
        part ? `${name}[${part.label}]` : name);
    const vector = (name: string): Promise<GPUBuffer> => {
      const tensor = header.tensorByName.get(name)!;
      return uploader.allocateVector(name, tensor.elementCount, tensor.offset, async () => {
        const read = await values(name);
        loadedBytes += tensor.byteLength;
        return read;
      });
    };

    const embedding = await matrix("token_embd.weight");
    const qDim = config.qHeads * config.headDim;
    const kvDim = config.kvHeads * config.headDim;
    const layers: LayerWeights[] = [];
    for (let l = 0; l < config.layers; l++) {
      const p = `blk.${l}.`;
      const attnNorm = await vector(`${p}attn_norm.weight`);
      const qkvNames = arch.fusedQkv ? [`${p}attn_qkv.weight`] : [`${p}attn_q.weight`, `${p}attn_k.weight`, `${p}attn_v.weight`];
      const qkv: LayerWeights["qkv"] = !qkvFused(tuning, qkvNames.map((name) => header.tensorByName.get(name)!.type))
        ? arch.fusedQkv
          ? [
            await matrix(`${p}attn_qkv.weight`, { label: "q", firstRow: 0, rowCount: qDim }),
            await matrix(`${p}attn_qkv.weight`, { label: "k", firstRow: qDim, rowCount: kvDim }),
            await matrix(`${p}attn_qkv.weight`, { label: "v", firstRow: qDim + kvDim, rowCount: kvDim }),
          ]
          : [await matrix(`${p}attn_q.weight`), await matrix(`${p}attn_k.weight`), await matrix(`${p}attn_v.weight`)]
        : arch.fusedQkv
          ? [await matrix(`${p}attn_qkv.weight`)]
          : [await combinedMatrix(`${p}attn_qkv.weight`, qkvNames.map((name, i) => ({ name, firstRow: 0, rows: i === 0 ? qDim : kvDim })), "stacked")];
      const biases = new Map<string, GPUBuffer>();
      for (const bias of config.biases) biases.set(bias, await vector(`${p}${bias}`));
      const qkNorms = arch.qkNorm ? { qNorm: await vector(`${p}attn_q_norm.weight`), kNorm: await vector(`${p}attn_k_norm.weight`) } : {};
      const wo = await matrix(`${p}attn_output.weight`);
      const postAttentionNorm = arch.postNorms ? await vector(`${p}post_attention_norm.weight`) : undefined;
      const ffnNorm = await vector(`${p}ffn_norm.weight`);
      // gate and up: parts of one tensor (rows [0, ffn) and [ffn, 2·ffn) of a fused ffn_up) or two tensors
      const gateUpParts = arch.fusedGateUp
        ? [{ name: `${p}ffn_up.weight`, firstRow: 0, rows: config.ffnDim }, { name: `${p}ffn_up.weight`, firstRow: config.ffnDim, rows: config.ffnDim }]
        : [{ name: `${p}ffn_gate.weight`, firstRow: 0, rows: config.ffnDim }, { name: `${p}ffn_up.weight`, firstRow: 0, rows: config.ffnDim }];
      const gateUpTypes = gateUpParts.map((part) => header.tensorByName.get(part.name)!.type);
      const gateUp: LayerWeights["gateUp"] = gateUpPaired(tuning, gateUpTypes, config.dim, config.ffnDim, uploader.maxChunkBytes)
        ? [await combinedMatrix(`${p}ffn_gate_up.weight`, gateUpParts, "interleaved")]
        : arch.fusedGateUp
          ? [
            await matrix(`${p}ffn_up.weight`, { label: "gate", firstRow: 0, rowCount: config.ffnDim }),
            await matrix(`${p}ffn_up.weight`, { label: "up", firstRow: config.ffnDim, rowCount: config.ffnDim }),
          ]
          : [await matrix(`${p}ffn_gate.weight`), await matrix(`${p}ffn_up.weight`)];
      const wDown = await matrix(`${p}ffn_down.weight`);
      const postFfnNorm = arch.postNorms ? await vector(`${p}post_ffw_norm.weight`) : undefined;
      layers.push({ attnNorm, qkv, wo, ffnNorm, gateUp, wDown, biases, ...qkNorms, postAttentionNorm, postFfnNorm });
    }
    const outputNorm = await vector("output_norm.weight");
    const output = config.tiedOutput ? embedding : await matrix("output.weight");
    // RoPE factor tensors are read here and folded into the angles on the CPU; they never reach the GPU.
    const ropes: RopeAngles[] = [];
    for (const { factorsTensor, ...rope } of config.ropes) {
      ropes.push({ ...rope, factors: factorsTensor ? await values(factorsTensor) : null });
    }

    // KV pool: sized from the budget, or room for every sequence at full context.
    const maxSeqs = options.maxSeqs ?? 1;
    const blockSize = options.kvBlockSize ?? 16;
    if (!Number.isInteger(blockSize) || blockSize < 1 || blockSize > 1024) throw new RequestError(`KV block size must be 1..1024 tokens, got ${blockSize}`);
    const kvShape = { layers: config.layers, kvHeads: config.kvHeads, headDim: config.headDim };
    const kvFormat = options.kvFormat ?? F32_KV;
    validateKvFormat({ blockSize, kvHeads: config.kvHeads, headDim: config.headDim }, kvFormat);
    const tails = hasTail(kvFormat) ? maxSeqs : 0;
    const kvBlocks = chooseKvBlocks(gpu, kvShape, blockSize, kvFormat, maxSeqs, contextLength, options, tails);
    const kvPool = await KvPool.create(gpu, kvShape, { blockSize, format: kvFormat, numBlocks: kvBlocks, tails });

    // Step inputs and activations, sized for the largest step.
    const maxStepTokens = options.maxStepTokens ?? 128;
    const maxLogitRows = Math.max(1, Math.min(maxStepTokens, Math.floor(bindingLimit / (config.vocabSize * 4))));
    const step = await StepBuffers.create(
      gpu,
      {
        maxTokens: maxStepTokens, maxSeqs, maxLogitRows,
        maxBlockTableEntries: maxSeqs * Math.ceil(contextLength / blockSize),
        maxSeals: Math.ceil(maxStepTokens / blockSize) + maxSeqs,
      },
      ropes,
    );
    if (!(Number.isInteger(tuning.chainDepth) && tuning.chainDepth >= 1 && tuning.chainDepth <= 8)) {
      throw new RequestError(`the chain depth (steps in flight) must be an integer from 1 to 8, got ${tuning.chainDepth}`);
    }
    const act = await allocateActivations(gpu, config, maxStepTokens, maxLogitRows, tuning.chainDepth);
    const int8Cols = int8InputCols(tuning, [...layers.flatMap((l) => [...l.qkv, l.wo, ...l.gateUp, l.wDown]), output]);
    if (int8Cols > 0) {
      act.xInt8 = await gpu.memory.allocate("activations", "x as int8 blocks (one token)", int8RowWords(int8Cols) * 4, GPUBufferUsage.STORAGE);
    }

    const model = new TransformerModel(
      gpu, { ...config, contextLength }, tuning, kvPool, step, options.attention ?? "flash", uploader.maxChunkBytes,
      { embedding, output, outputNorm, layers }, act,
    );
    // The kernels compile (in the GPU process) while the weights are read, packed and written (here).
    await settleAll([uploader.fill().then(() => progress("compiling kernels", 1)), model.recordCalls()]);
    return model;
  }

  /** Records every kernel call once; attention calls are (re)recorded by ensureAttentionScratch. The parts are
   *  recorded side by side, so that their pipelines compile concurrently (createComputeProgram). */
  private async recordCalls(): Promise<void> {
    const c = this.config;
    const embed = async () => [
      ...(await embeddingCalls(this.gpu, this.step.uniform, this.weights.embedding, this.step.tokens, this.act.x, this.tuning.workgroupSize)),
      ...(c.embeddingScale !== 1
        ? [await pointwiseCall(this.gpu, "embedding scale", { step: this.step.uniform, y: this.act.x },
          { n: c.dim, rowStride: c.dim, workgroupSize: this.tuning.workgroupSize }, { op: "scale", factor: c.embeddingScale })]
        : []),
    ];
    const typicalDecode = { numTokens: 1, numSeqs: 1, numLogitRows: 1, maxContext: Math.min(256, this.config.contextLength), maxSeqTokens: 1, numDecodeSeqs: 1, numSeals: 0 };
    const [embedCalls, single, batch, argmax] = await settleAll([
      embed(),
      this.recordLayerCalls(1),
      this.recordLayerCalls(this.tuning.prefillTokenTile),
      argmaxCall(this.gpu, "argmax", { step: this.step.uniform, logits: this.act.logits, ids: this.act.argmaxIds },
        { vocab: c.vocabSize, workgroupSize: this.tuning.argmaxWorkgroupSize }),
      this.ensureAttentionScratch(typicalDecode),
    ]);
    this.embedCalls = embedCalls;
    this.layerCalls = { single, batch };
    this.argmaxCall = argmax;
  }

  private async recordLayerCalls(tokenTile: number): Promise<RecordedCalls> {
    const { gpu, config: c, tuning, act, step, weights } = this;
    const arch = c.description;
    const wg = tuning.workgroupSize;
    const kernelOf = (w: GpuMatrix) => matmulKernelOf(w, tuning, tokenTile);
    const qDim = c.qHeads * c.headDim;
    const kvDim = c.kvHeads * c.headDim;
    // Int8 inputs (tuning.int8Activations; single-token steps): a matmul whose weights take them reads its input quantized once into
    // act.xInt8 by the call before it (q, k and v share one quantized xb, as gate and up do); a folded norm keeps f32.
    const int8 = (w: GpuMatrix, folded = false) => act.xInt8 !== undefined && !folded && tokenTile === 1 && takesInt8Input(w, tuning);
    const quantize = async (label: string, x: GPUBuffer, cols: number, logitRows = false): Promise<KernelCall[]> =>
      [await quantizeXCall(gpu, label, { step: step.uniform, x, xq: act.xInt8! }, { cols, xRowsAreLogitRows: logitRows, workgroupSize: wg })];
    const mm = async (w: GpuMatrix, x: GPUBuffer, y: BufferBinding, yStride: number, accumulate: boolean, logitRows = false) => [
      ...(int8(w) ? await quantize(`quantize ${w.name} input`, x, w.cols, logitRows) : []),
      ...(await matmulCalls(gpu, step.uniform, w, x, y, yStride, {
        tokenTile, accumulate, xRowsAreLogitRows: logitRows, workgroupSize: wg, kernel: kernelOf(w), xInt8: int8(w) ? act.xInt8 : undefined,
      })),
    ];
    /** y = W·rmsnorm(x)·g [then act(y_before)·that]: the norm folded into the matmul, or a norm call first (the caller's). */
    const normedMm = (w: GpuMatrix, normWeight: GPUBuffer, y: BufferBinding, yStride: number, glu?: "glu" | "paired", qkvOutput?: QkvOutput) =>
      matmulCalls(gpu, step.uniform, w, tuning.fuseNorm ? act.x : act.xb, y, yStride, {
        tokenTile, accumulate: false, workgroupSize: wg, kernel: kernelOf(w), qkvOutput,
        norm: tuning.fuseNorm ? { weight: normWeight, eps: c.rmsEps, lanes: tuning.reduceWorkgroupSize, perInvocation: tuning.normPerInvocation } : undefined,
        glu: glu ? arch.activation : undefined, gluPaired: glu === "paired", xInt8: int8(w, tuning.fuseNorm) ? act.xInt8 : undefined,
      });
    /** The normed input xb quantized for the matmuls that read it (when one of them takes int8 inputs). */
    const quantizeNormed = async (label: string, readers: GpuMatrix[]) =>
      readers.some((w) => int8(w, tuning.fuseNorm)) ? await quantize(label, act.xb, c.dim) : [];
    const layerNorm = async (label: string, weight: GPUBuffer) => (tuning.fuseNorm ? [] : [await norm(label, weight)]);
    /** The calls of `parts` in order; the parts are recorded concurrently, so their pipelines compile side by side
     *  (a program requested twice compiles once: createComputeProgram). */
    const inOrder = async (parts: (KernelCall | KernelCall[] | Promise<KernelCall | KernelCall[]>)[]): Promise<KernelCall[]> =>
      (await settleAll(parts)).flat();
    const norm = (label: string, weight: GPUBuffer, io: { x?: GPUBuffer; y?: GPUBuffer; gatherLogitRows?: boolean; accumulate?: boolean } = {}) =>
      rmsnormCall(
        gpu,
        label,
        { step: step.uniform, x: io.x ?? act.x, weight, logitRows: step.logitRows, y: io.y ?? (io.gatherLogitRows ? act.xLogits : act.xb) },
        { dim: c.dim, eps: c.rmsEps, gatherLogitRows: io.gatherLogitRows ?? false, accumulate: io.accumulate, lanes: tuning.reduceWorkgroupSize, perRow: tuning.rmsnormPerRow },
      );
    const bias = async (label: string, b: GPUBuffer | undefined, y: BufferBinding, n: number): Promise<KernelCall[]> =>
      b ? [await pointwiseCall(gpu, label, { step: step.uniform, y }, { n, rowStride: n, workgroupSize: wg }, { op: "bias", bias: b })] : [];
    /** y = W·x [+ b] added to the residual stream, directly or through the output's post-norm. */
    const intoResidual = (l: number, what: string, w: GpuMatrix, x: GPUBuffer, b: GPUBuffer | undefined, postNorm: GPUBuffer | undefined) => {
      if (!postNorm) return inOrder([mm(w, x, act.x, c.dim, true), bias(`layer ${l} ${what} bias`, b, act.x, c.dim)]);
      const projected = act.projected!;
      return inOrder([
        mm(w, x, projected, c.dim, false),
        bias(`layer ${l} ${what} bias`, b, projected, c.dim),
        norm(`layer ${l} ${what} post-norm`, postNorm, { x: projected, y: act.x, accumulate: true }),
      ]);
    };
    // RoPE in the KV append's dispatch (tuning.ropeInAppend): normal pairs, and a K section the seal does not read first.
    const ropeInAppend = tuning.ropeInAppend && arch.rope === "normal" && !isQuantized(this.kvPool.settings.format.k.type);
    // A fused q/k/v matmul writes into the step's k, v and q rows of one buffer (offsets in floats).
    const qkvOutput: QkvOutput = { qRows: qDim, kvRows: kvDim, qBase: act.q.offset / 4, kBase: 0, vBase: act.kvNew.vOffsetBytes / 4 };
    const layerCalls = weights.layers.map((layer, l) => {
      const kvPool = this.kvPool.layerBindings[l]!;
      const before = inOrder([
        layerNorm(`layer ${l} attention norm`, layer.attnNorm),
        quantizeNormed(`layer ${l} quantize attention input`, layer.qkv),
        layer.qkv.length === 1
          ? normedMm(layer.qkv[0], layer.attnNorm, act.kvNew.buffer, 0, undefined, qkvOutput)
          : inOrder([
            normedMm(layer.qkv[0], layer.attnNorm, act.q, qDim),
            normedMm(layer.qkv[1], layer.attnNorm, act.k, kvDim),
            normedMm(layer.qkv[2], layer.attnNorm, act.v, kvDim),
          ]),
        bias(`layer ${l} q bias`, layer.biases.get("attn_q.bias"), act.q, qDim),
        bias(`layer ${l} k bias`, layer.biases.get("attn_k.bias"), act.k, kvDim),
        bias(`layer ${l} v bias`, layer.biases.get("attn_v.bias"), act.v, kvDim),
        arch.qkNorm
          ? headNormCall(gpu, `layer ${l} q/k norm`, { step: step.uniform, q: act.q, k: act.k, qNorm: layer.qNorm!, kNorm: layer.kNorm! },
            { qHeads: c.qHeads, kvHeads: c.kvHeads, headDim: c.headDim, eps: c.rmsEps, workgroupSize: tuning.reduceWorkgroupSize })
          : [],
        ropeInAppend ? [] : ropeCall(gpu, `layer ${l} rope`, { step: step.uniform, cosSin: step.cosSin[c.layerRope[l]!]!, q: act.q, k: act.k },
          { qHeads: c.qHeads, kvHeads: c.kvHeads, headDim: c.headDim, ropeDim: c.ropeDim, neox: arch.rope === "neox", workgroupSize: wg }),
        kvSealCalls(gpu, `layer ${l} kv seal`,
          { step: step.uniform, seqs: step.seqs, blockTables: step.blockTables, seals: step.seals, k: act.k, v: act.v, kvPool },
          { ...this.kvPool.kernelShape, workgroupSize: wg }),
        kvAppendCall(gpu, `layer ${l} kv append`,
          { step: step.uniform, tokens: step.tokens, seqs: step.seqs, k: act.k, v: act.v, kvPool, blockTables: step.blockTables },
          { ...this.kvPool.kernelShape, workgroupSize: wg },
          ropeInAppend ? { q: act.q, cosSin: step.cosSin[c.layerRope[l]!]!, qHeads: c.qHeads, ropeDim: c.ropeDim } : undefined),
      ]);
      const after = inOrder([
        intoResidual(l, "attention output", layer.wo, act.att, layer.biases.get("attn_output.bias"), layer.postAttentionNorm),
        layerNorm(`layer ${l} ffn norm`, layer.ffnNorm),
        quantizeNormed(`layer ${l} quantize ffn input`, layer.gateUp),
        layer.gateUp.length === 1
          ? normedMm(layer.gateUp[0], layer.ffnNorm, act.gate, c.ffnDim, "paired")
          : inOrder([
            normedMm(layer.gateUp[0], layer.ffnNorm, act.gate, c.ffnDim),
            tuning.fuseGlu
              ? normedMm(layer.gateUp[1], layer.ffnNorm, act.gate, c.ffnDim, "glu")
              : inOrder([
                normedMm(layer.gateUp[1], layer.ffnNorm, act.up, c.ffnDim),
                gluCall(gpu, `layer ${l} glu`, { step: step.uniform, up: act.up, gate: act.gate }, { ffnDim: c.ffnDim, activation: arch.activation, workgroupSize: wg }),
              ]),
          ]),
        intoResidual(l, "ffn output", layer.wDown, act.gate, undefined, layer.postFfnNorm),
      ]);
      return settleAll([before, after]);
    });
    const headCalls = inOrder([
      norm("output norm", weights.outputNorm, { gatherLogitRows: true }),
      mm(weights.output, act.xLogits, act.logits, c.vocabSize, false, true),
      c.finalSoftcap > 0
        ? pointwiseCall(gpu, "final logit softcap", { step: step.uniform, y: act.logits }, { n: c.vocabSize, rowStride: c.vocabSize, workgroupSize: wg },
          { op: "softcap", cap: c.finalSoftcap })
        : [],
    ]);
    const [layers, head] = await settleAll([settleAll(layerCalls), headCalls]);
    const beforeAttention = layers.map(([before]) => before);
    const afterAttention = layers.map(([, after]) => after);
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
    this.attentionCalls = [];
    for (let l = 0; l < c.layers; l++) {
      const shape = { ...this.kvPool.kernelShape, qHeads: c.qHeads, window: c.layerWindows[l]!, scale: c.attentionScale, softcap: c.attentionSoftcap };
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
   * Submits one step without waiting for the GPU: it stores the batch's K/V in the cache, and the returned step's
   * result() gives the logits of its logit rows, [logitRows.length × vocab] — or with readback "argmax", only each
   * logit row's argmax id (computed on the GPU, equal to argmax() of those logits). Block copies (copy-on-write)
   * are performed first. With `chained`, token i of the batch reads its id on the GPU from the argmax id of logit row i of the step
   * submitted just before (the batch's ids are placeholders): a greedy decode step can then be queued while the
   * previous one runs, before its id has come back. At most chainDepth steps may be unfinished at once.
   */
  async submit(
    batch: StepBatch,
    blockCopies: { src: number; dst: number }[] = [],
    tailCopies: { src: number; dst: number }[] = [],
    readback: StepReadback = "logits",
    chained = false,
  ): Promise<SubmittedStep> {
    this.throwPendingError();
    const sizes = this.step.write(batch);
    await this.ensureAttentionScratch(sizes);
    const device = this.gpu.device;
    const stepNumber = ++this.stepNumber;
    // A validation error would otherwise only reach the console while we read back stale logits. The scope
    // is not awaited: its answer arrives with (or before) the readback, and the step after reports it.
    device.pushErrorScope("validation");
    const encoder = device.createCommandEncoder({ label: `forward step ${stepNumber}` });
    if (chained) {
      // TokenInfo is 4 words, the id first (step.ts); the previous step's argmax ids are still in act.argmaxIds.
      for (let i = 0; i < batch.tokens.length; i++) encoder.copyBufferToBuffer(this.act.argmaxIds, i * 4, this.step.tokens, i * 16, 4);
    }
    this.kvPool.encodeBlockCopies(encoder, blockCopies);
    this.kvPool.encodeTailCopies(encoder, tailCopies);
    const calls = this.callsFor(sizes);
    const wantArgmax = readback === "argmax" && sizes.numLogitRows > 0;
    const stepCalls = wantArgmax ? [...calls, this.argmaxCall!] : calls;
    if (this.profiler) {
      encodeCallsProfiled(encoder, this.profiler, stepCalls, sizes);
      this.profiler.encodeResolve(encoder);
    } else {
      const pass = encoder.beginComputePass({ label: "forward" });
      encodeCalls(pass, stepCalls, sizes);
      pass.end();
    }
    // Argmax ids come back through chainDepth staging buffers in turn, so that as many steps can be in flight.
    const [source, staging, bytes] = wantArgmax
      ? [this.act.argmaxIds, this.act.argmaxReadback[stepNumber % this.chainDepth]!, sizes.numLogitRows * 4]
      : [this.act.logits, this.act.logitsReadback, sizes.numLogitRows * this.config.vocabSize * 4];
    if (bytes > 0) encoder.copyBufferToBuffer(source, 0, staging, 0, bytes);
    device.queue.submit([encoder.finish()]);
    void device.popErrorScope().then(
      (error) => {
        if (error) this.pendingError ??= new Error(`GPU validation error in forward step ${stepNumber}: ${error.message}`);
      },
      (error: unknown) => {
        this.pendingError ??= new Error(`forward step ${stepNumber}: the error scope failed: ${String(error)}`);
      },
    );
    // The wait starts now (mapAsync resolves once the queue has run the step), so the staging buffer is not
    // written again before it is read.
    const done = bytes === 0 ? device.queue.onSubmittedWorkDone() : staging.mapAsync(GPUMapMode.READ, 0, bytes);
    done.catch(() => undefined); // result() reports it
    const result = async (): Promise<Float32Array | Uint32Array> => {
      let syncs = 0;
      if (this.profiler) {
        syncs++;
        for (const [kind, ms] of Object.entries(await this.profiler.collect())) this.profile[kind] = (this.profile[kind] ?? 0) + ms;
      }
      syncs++;
      await done;
      let output: Float32Array | Uint32Array = new Float32Array(0);
      if (bytes > 0) {
        const copy = staging.getMappedRange(0, bytes).slice(0);
        staging.unmap();
        output = wantArgmax ? new Uint32Array(copy) : new Float32Array(copy);
      }
      this.count(countDispatches(stepCalls, sizes), syncs, bytes, sizes.numTokens, chained);
      this.throwPendingError();
      this.checkFinite(output, wantArgmax);
      return output;
    };
    return { result };
  }

  /**
   * Non-finite logits stop the run by name: checked here on logits read back, and by the argmax kernel (its
   * NON_FINITE_ROW id) when only the greedy ids come back.
   */
  private checkFinite(result: Float32Array | Uint32Array, argmaxIds: boolean): void {
    const vocab = this.config.vocabSize;
    const bad = argmaxIds ? result.indexOf(NON_FINITE_ROW) : (result as Float32Array).findIndex((v) => !Number.isFinite(v));
    if (bad < 0) return;
    const where = argmaxIds ? `logit row ${bad}` : `token ${bad % vocab} at logit row ${Math.floor(bad / vocab)} (${result[bad]})`;
    throw new NonFiniteLogitsError(
      `the model produced a non-finite logit for ${where} of this step: its weights overflow float32 (a corrupt or mis-scaled file)`,
    );
  }

  /** Throws the device's loss, or a validation error an earlier step's error scope reported. */
  private throwPendingError(): void {
    if (this.gpu.lostReason) throw new Error(this.gpu.lostReason);
    const error = this.pendingError;
    if (error) {
      this.pendingError = undefined;
      throw error;
    }
  }

  private count(dispatches: number, syncs: number, readbackBytes: number, numTokens: number, chained: boolean): void {
    const c = this.counters;
    c.steps++;
    c.dispatches += dispatches;
    c.syncs += syncs;
    c.readbackBytes += readbackBytes;
    if (chained) c.chained++;
    c.last = { dispatches, syncs, readbackBytes, numTokens, chained };
  }

  /** Dispatches, syncs and readback bytes since the last call (and of the last step). */
  takeCounters(): StepCounters {
    const counters = this.counters;
    this.counters = emptyCounters();
    return counters;
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

function emptyCounters(): StepCounters {
  return { steps: 0, dispatches: 0, syncs: 0, readbackBytes: 0, chained: 0, last: { dispatches: 0, syncs: 0, readbackBytes: 0, numTokens: 0, chained: false } };
}

/** Dispatches encodeCalls issues for these sizes (calls with an empty grid are skipped). */
function countDispatches(calls: KernelCall[], sizes: StepSizes): number {
  return calls.filter((call) => call.workgroups(sizes).every((n) => n > 0)).length;
}

function chooseKvBlocks(
  gpu: GpuContext, shape: KvPoolShape, blockSize: number, format: KvCacheFormat, maxSeqs: number, contextLength: number,
  options: ModelLoadOptions, tails: number,
): number {
  const adapterMax = KvPool.maxBlocksPerLayer(gpu, shape, blockSize, format, tails);
  const blockBytesAllLayers = kvBlockBytes(shape, blockSize, format) * shape.layers;
  let blocks: number;
  if (options.kvBlocks !== undefined) blocks = options.kvBlocks;
  else if (options.kvBudgetBytes !== undefined) blocks = Math.floor(options.kvBudgetBytes / blockBytesAllLayers);
  else if (options.kvBudgetFraction !== undefined) {
    if (!(options.kvBudgetFraction > 0 && options.kvBudgetFraction <= 1)) throw new RequestError(`a KV budget fraction must be in (0, 1], got ${options.kvBudgetFraction}`);
    // A fraction of the largest pool that is of use: every sequence at full context, within one binding per layer.
    const useful = Math.min(adapterMax, maxSeqs * Math.ceil(contextLength / blockSize));
    blocks = Math.max(1, Math.floor(options.kvBudgetFraction * useful));
  } else blocks = Math.min(maxSeqs * Math.ceil(contextLength / blockSize), adapterMax);
  if (!Number.isInteger(blocks) || blocks < 1) {
    throw new RequestError(
      `the KV budget holds no block: one block of ${blockSize} tokens takes ${blockBytesAllLayers} bytes across ${shape.layers} layers`,
    );
  }
  return blocks;
}

/**
 * The widest input among the matmuls that read int8 inputs (0: none does, and no int8 buffer is allocated): with
 * tuning.int8Activations, every Q8_0/Q4_0 matrix of at least INT8_INPUT_MIN_WEIGHTS the decode (single-token) rows
 * kernel multiplies.
 */
export function int8InputCols(tuning: KernelTuning, matrices: GpuMatrix[]): number {
  if (!tuning.int8Activations) return 0;
  let cols = 0;
  for (const w of matrices) {
    if (takesInt8Input(w, tuning)) cols = Math.max(cols, w.cols);
  }
  return cols;
}

/**
 * Whether a layer's q, k and v projections run as one matmul over [Wq; Wk; Wv] (tuning.fuseQkv): where their
 * tensors (three, or one fused attn_qkv) share a weight type. src/estimator/webkv.ts stacks them by the same rule.
 */
export function qkvFused(tuning: Pick<KernelTuning, "fuseQkv">, types: number[]): boolean {
  return tuning.fuseQkv && types.every((type) => type === types[0]);
}

/**
 * Whether a layer's gate and up projections run as one matmul over [Wgate; Wup] interleaved by row, the GLU in its
 * epilogue (tuning.fuseGateUp with the GLU folded): where they share a weight type, the decode and prefill matmuls
 * both take the rows kernel (one invocation stores a row pair) and the 2·ffn rows fit one chunk.
 * src/estimator/webkv.ts stacks them by the same rule, given the runtime's plan.fuse_gate_up (the kernel part).
 */
export function gateUpPaired(tuning: KernelTuning, types: number[], cols: number, ffnDim: number, maxChunkBytes: number): boolean {
  const type = types[0]!;
  if (!(tuning.fuseGateUp && tuning.fuseGlu) || !types.every((other) => other === type) || !isGpuWeightType(type)) return false;
  return pairsGateUpRows(type, cols, tuning.decodeMatmul, 1) && pairsGateUpRows(type, cols, tuning.matmul, tuning.prefillTokenTile) &&
    2 * ffnDim <= rowsPerChunk(type, cols, maxChunkBytes);
}

/**
 * Matrices below this many weights take 4 rows an invocation in prefill where the tuning asks for 8: on SwiftShader
 * the 8-row pipeline compiles far longer, and a small matrix's prefill does not pay it back (stories260K F32, all of
 * whose matrices are below: a cold start's load 4.4 s with 8 rows, 2.5 s with 4, in bench/cold-start.ts side by side).
 */
const PREFILL_ROWS8_MIN_WEIGHTS = 65536;

/** The matmul kernel of `w` in steps of `tokenTile` tokens: the tuning's decode or prefill kernel (see above). */
function matmulKernelOf(w: GpuMatrix, tuning: KernelTuning, tokenTile: number): MatmulKernel {
  const kernel = tokenTile === 1 ? tuning.decodeMatmul : tuning.matmul;
  return kernel.kind === "rows" && kernel.rowsPerInvocation === 8 && tokenTile > 1 && w.rows * w.cols < PREFILL_ROWS8_MIN_WEIGHTS
    ? { ...kernel, rowsPerInvocation: 4 } : kernel;
}

/** Whether a single-token step's matmul of `w` reads an int8 input: large enough to pay for quantizing it. */
function takesInt8Input(w: GpuMatrix, tuning: KernelTuning): boolean {
  return tuning.int8Activations && w.rows * w.cols >= INT8_INPUT_MIN_WEIGHTS && int8InputApplies(w.type, w.cols, tuning.decodeMatmul, 1);
}

async function allocateActivations(gpu: GpuContext, c: ModelConfig, maxTokens: number, maxLogitRows: number, chainDepth: number): Promise<Activations> {
  const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const buffer = (label: string, floats: number, category: MemoryCategory = "activations", usage = storage) =>
    gpu.memory.allocate(category, label, floats * 4, usage);
  const qDim = c.qHeads * c.headDim;
  const kvDim = c.kvHeads * c.headDim;
  const kvBytes = maxTokens * kvDim * 4;
  const vOffsetBytes = stepKvValueOffset(kvBytes, gpu.limits.minStorageBufferOffsetAlignment);
  const qOffsetBytes = stepKvValueOffset(vOffsetBytes + kvBytes, gpu.limits.minStorageBufferOffsetAlignment);
  const qBytes = maxTokens * qDim * 4;
  const kvqBuffer = await buffer("k, v, q (this step)", (qOffsetBytes + qBytes) / 4);
  const stepKv = stepKvRows(kvqBuffer, kvBytes, vOffsetBytes);
  const argmaxReadback: GPUBuffer[] = [];
  for (let i = 0; i < chainDepth; i++) {
    argmaxReadback.push(await buffer(`argmax readback ${i + 1} of ${chainDepth}`, maxLogitRows, "staging", GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST));
  }
  return {
    x: await buffer("x (residual stream)", maxTokens * c.dim),
    xb: await buffer("xb (normed)", maxTokens * c.dim),
    ...stepKv,
    q: { buffer: kvqBuffer, offset: qOffsetBytes, size: qBytes },
    att: await buffer("attention output", maxTokens * qDim),
    gate: await buffer("ffn gate / h", maxTokens * c.ffnDim),
    up: await buffer("ffn up", maxTokens * c.ffnDim),
    projected: c.description.postNorms ? await buffer("projection before post-norm", maxTokens * c.dim) : undefined,
    xLogits: await buffer("x at logit rows", maxLogitRows * c.dim),
    logits: await buffer("logits", maxLogitRows * c.vocabSize),
    logitsReadback: await buffer("logits readback", maxLogitRows * c.vocabSize, "staging", GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST),
    argmaxIds: await buffer("argmax ids", maxLogitRows),
    argmaxReadback,
  };
}

/**
 * Promise.all that waits for every promise before it throws the first failure (in order): no part of a model's
 * load goes on compiling or allocating after the load has failed and its buffers were freed.
 */
async function settleAll<T extends readonly unknown[] | []>(promises: T): Promise<{ -readonly [K in keyof T]: Awaited<T[K]> }> {
  const results = await Promise.allSettled(promises);
  for (const result of results) if (result.status === "rejected") throw result.reason;
  return results.map((result) => (result as PromiseFulfilledResult<unknown>).value) as { -readonly [K in keyof T]: Awaited<T[K]> };
}
