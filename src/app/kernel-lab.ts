// Runs single kernels on given inputs, for the kernel tests (tests/kernels): each test sends inputs from
// Node, this runs the real kernel wrapper on the GPU, and the test compares with its CPU reference.

import { acquireGpu, type GpuContext } from "../gpu/device.js";
import { GgmlType } from "../gguf/types.js";
import { flashAttentionCalls, flashPartialBytes } from "../kernels/attention-flash.js";
import { naiveAttentionCalls } from "../kernels/attention-naive.js";
import { argmaxCall } from "../kernels/argmax.js";
import { embeddingCalls } from "../kernels/embedding.js";
import { encodeCalls, type KernelCall, type StepSizes } from "../kernels/kernel-call.js";
import { kvAppendCall } from "../kernels/kv-append.js";
import { kvSealCalls } from "../kernels/kv-seal.js";
import { stepKvRows, stepKvValueOffset } from "../kernels/kv-shape.js";
import { matmulCalls, type MatmulKernel, type QkvOutput } from "../kernels/matmul.js";
import { int8RowWords, quantizeXCall } from "../kernels/quantize-x.js";
import { rmsnormCall } from "../kernels/rmsnorm.js";
import { ropeCall } from "../kernels/rope.js";
import { gluCall } from "../kernels/glu.js";
import { headNormCall } from "../kernels/head-norm.js";
import { pointwiseCall } from "../kernels/pointwise.js";
import type { GatedActivation } from "../model/architecture.js";
import type { RopeAngles } from "../model/rope.js";
import { chooseTuning } from "../kernels/tuning.js";
import { F32_KV, hasTail, type KvCacheFormat } from "../kv/formats.js";
import { KvPool } from "../kv/pool.js";
import { concatFloats } from "../util/concat.js";
import { StepBuffers, type StepBatch } from "../model/step.js";
import { assertGpuWeightType, weightRowBytes } from "../model/weight-layout.js";
import { WeightUploader } from "../model/weights.js";

const STORAGE = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;

export class KernelLab {
  private gpuPromise: Promise<GpuContext> | undefined;

  private async gpu(): Promise<GpuContext> {
    this.gpuPromise ??= acquireGpu();
    return this.gpuPromise;
  }

  private async upload(gpu: GpuContext, label: string, data: ArrayBufferView, minBytes = 4): Promise<GPUBuffer> {
    const buffer = await gpu.memory.allocate("other", label, Math.max(minBytes, data.byteLength), STORAGE);
    if (data.byteLength > 0) gpu.device.queue.writeBuffer(buffer, 0, data.buffer, data.byteOffset, data.byteLength);
    return buffer;
  }

  private async read(gpu: GpuContext, buffer: GPUBuffer, bytes: number): Promise<Float32Array> {
    const staging = await gpu.memory.allocate("staging", "lab readback", bytes, GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST);
    const encoder = gpu.device.createCommandEncoder();
    encoder.copyBufferToBuffer(buffer, 0, staging, 0, bytes);
    gpu.device.queue.submit([encoder.finish()]);
    await staging.mapAsync(GPUMapMode.READ);
    const out = new Float32Array(staging.getMappedRange().slice(0));
    staging.unmap();
    gpu.memory.destroy(staging);
    return out;
  }

  /** A GGUF-layout matrix on the GPU through the model's own uploader (split into chunks of `maxChunkBytes`). */
  private async uploadMatrix(gpu: GpuContext, label: string, type: GgmlType, rows: number, cols: number, bytes: Uint8Array, maxChunkBytes?: number, rowGroup = 1, texels = false) {
    assertGpuWeightType(label, type);
    const uploader = new WeightUploader(gpu, maxChunkBytes ?? gpu.limits.maxStorageBufferBindingSize, rowGroup, texels);
    const rowBytes = weightRowBytes(type, cols).gguf;
    return uploader.matrix(label, type, rows, cols, async (first, count) => bytes.subarray(first * rowBytes, (first + count) * rowBytes));
  }

  private run(gpu: GpuContext, calls: KernelCall[], sizes: StepSizes): void {
    const encoder = gpu.device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    encodeCalls(pass, calls, sizes);
    pass.end();
    gpu.device.queue.submit([encoder.finish()]);
  }

  private async stepFor(gpu: GpuContext, batch: StepBatch, rope: Partial<RopeAngles> = {}) {
    const step = await StepBuffers.create(
      gpu,
      {
        maxTokens: batch.tokens.length, maxSeqs: Math.max(1, batch.seqs.length), maxLogitRows: Math.max(1, batch.logitRows.length),
        maxBlockTableEntries: Math.max(1, batch.seqs.reduce((n, s) => n + s.blockTable.length, 0)), maxSeals: Math.max(1, batch.seals?.length ?? 0),
      },
      [{ ropeDim: 2, freqBase: 10000, freqScale: 1, extFactor: 0, corrDims: [0, 0], attnFactor: 1, factors: null, ...rope }],
    );
    return { step, sizes: step.write(batch) };
  }

  private simpleBatch(numTokens: number, logitRows: number[] = [], ids?: number[], positions?: number[]): StepBatch {
    return {
      tokens: Array.from({ length: numTokens }, (_, t) => ({ id: ids?.[t] ?? 0, seq: 0, position: positions?.[t] ?? t, slot: 0 })),
      seqs: [{ contextLen: numTokens, blockTable: [0], firstToken: 0, numTokens }],
      logitRows,
    };
  }

  /**
   * y = W·x (+ y0 when accumulating); W given as GGUF bytes of `type`, rows × cols. With `norm`, W reads
   * rmsnorm(x)·norm.weight; with `glu`, y0 is the gate and y = act(y0)·(W·x). `unfused` computes those the
   * way the kernels did before they were folded into the matmul (an rmsnorm call, the plain matmul, a glu call).
   * With `int8Input`, x is quantized to int8 blocks first (quantizeXCall) and the matmul reads those.
   * With `qkv`, W is [Wq; Wk; Wv] and the result is the whole y of `qkv.yFloats` floats, q, k and v rows at their
   * bases; with `gluPaired`, W is [Wgate; Wup] interleaved by row and the result is act(gate)·up, [numTokens, rows / 2].
   * `rowGroup`: Q8_0/Q4_0 packed in interleaved row groups (tuning.weightRowGroup; default 1, row by row).
   * `texels`: Q8_0/Q4_0 quants in textures where they fill one exactly (tuning.weightTexels; default: buffers).
   */
  async matmul(r: {
    type: GgmlType; rows: number; cols: number; weight: Uint8Array; x: Float32Array; numTokens: number;
    y0?: Float32Array; tokenTile: number; maxChunkBytes?: number;
    norm?: { weight: Float32Array; eps: number; perInvocation?: boolean }; glu?: GatedActivation; unfused?: boolean; kernel?: MatmulKernel; stageNorm?: boolean;
    int8Input?: boolean; qkv?: QkvOutput & { yFloats: number }; gluPaired?: boolean; rowGroup?: number; texels?: boolean;
  }): Promise<Float32Array> {
    const gpu = await this.gpu();
    try {
      const tuning = chooseTuning(gpu);
      const matrix = await this.uploadMatrix(gpu, "lab weight", r.type, r.rows, r.cols, r.weight, r.maxChunkBytes, r.rowGroup, r.texels);
      const { step, sizes } = await this.stepFor(gpu, this.simpleBatch(r.numTokens));
      const x = await this.upload(gpu, "x", r.x);
      const yStride = r.gluPaired ? r.rows / 2 : r.rows;
      const yFloats = r.qkv?.yFloats ?? r.numTokens * yStride;
      const y = await this.upload(gpu, "y", r.y0 ?? new Float32Array(yFloats));
      const g = r.norm ? await this.upload(gpu, "norm weight", r.norm.weight) : undefined;
      const calls: KernelCall[] = [];
      if (r.unfused) {
        let input = x;
        if (r.norm) {
          input = await this.upload(gpu, "xb", new Float32Array(r.x.length));
          calls.push(await rmsnormCall(gpu, "lab rmsnorm", { step: step.uniform, x, weight: g!, logitRows: step.logitRows, y: input },
            { dim: r.cols, eps: r.norm.eps, gatherLogitRows: false, lanes: tuning.reduceWorkgroupSize }));
        }
        const up = r.glu ? await this.upload(gpu, "up", new Float32Array(r.numTokens * r.rows)) : y;
        calls.push(...(await matmulCalls(gpu, step.uniform, matrix, input, up, r.rows, {
          tokenTile: r.tokenTile, accumulate: r.y0 !== undefined && !r.glu, workgroupSize: tuning.workgroupSize, kernel: r.kernel,
        })));
        if (r.glu) {
          calls.push(await gluCall(gpu, "lab glu", { step: step.uniform, up, gate: y }, { ffnDim: r.rows, activation: r.glu, workgroupSize: tuning.workgroupSize }));
        }
      } else {
        let xInt8: GPUBuffer | undefined;
        if (r.int8Input) {
          xInt8 = await gpu.memory.allocate("activations", "lab x int8", r.numTokens * int8RowWords(r.cols) * 4, GPUBufferUsage.STORAGE);
          calls.push(await quantizeXCall(gpu, "lab quantize x", { step: step.uniform, x, xq: xInt8 }, { cols: r.cols, workgroupSize: tuning.workgroupSize }));
        }
        calls.push(...(await matmulCalls(gpu, step.uniform, matrix, x, y, yStride, {
          tokenTile: r.tokenTile, accumulate: r.y0 !== undefined && !r.glu, workgroupSize: tuning.workgroupSize, kernel: r.kernel, xInt8,
          norm: r.norm ? { weight: g!, eps: r.norm.eps, lanes: tuning.reduceWorkgroupSize, perInvocation: r.norm.perInvocation } : undefined,
          glu: r.glu, stageNorm: r.stageNorm, qkvOutput: r.qkv, gluPaired: r.gluPaired,
        })));
      }
      this.run(gpu, calls, sizes);
      return await this.read(gpu, y, yFloats * 4);
    } finally {
      gpu.memory.destroyAll();
    }
  }

  /** x [numTokens, cols] quantized to int8 blocks (shaders/quantize_x.wgsl): each token's row of words. */
  async quantizeX(r: { x: Float32Array; cols: number; numTokens: number; workgroupSize?: number }): Promise<Uint32Array> {
    const gpu = await this.gpu();
    try {
      const { step, sizes } = await this.stepFor(gpu, this.simpleBatch(r.numTokens));
      const x = await this.upload(gpu, "x", r.x);
      const bytes = r.numTokens * int8RowWords(r.cols) * 4;
      const xq = await gpu.memory.allocate("activations", "lab x int8", bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC);
      this.run(gpu, [await quantizeXCall(gpu, "lab quantize x", { step: step.uniform, x, xq }, { cols: r.cols, workgroupSize: r.workgroupSize ?? chooseTuning(gpu).workgroupSize })], sizes);
      return new Uint32Array((await this.read(gpu, xq, bytes)).buffer);
    } finally {
      gpu.memory.destroyAll();
    }
  }

  async embedding(r: { type: GgmlType; rows: number; cols: number; table: Uint8Array; ids: number[]; maxChunkBytes?: number; rowGroup?: number; texels?: boolean }): Promise<Float32Array> {
    const gpu = await this.gpu();
    try {
      const table = await this.uploadMatrix(gpu, "lab table", r.type, r.rows, r.cols, r.table, r.maxChunkBytes, r.rowGroup, r.texels);
      const { step, sizes } = await this.stepFor(gpu, this.simpleBatch(r.ids.length, [], r.ids));
      const x = await this.upload(gpu, "x", new Float32Array(r.ids.length * r.cols));
      this.run(gpu, await embeddingCalls(gpu, step.uniform, table, step.tokens, x, chooseTuning(gpu).workgroupSize), sizes);
      return await this.read(gpu, x, r.ids.length * r.cols * 4);
    } finally {
      gpu.memory.destroyAll();
    }
  }

  /** With `y0`, the normalized rows are added into y0 (post-norms into the residual stream). */
  /** perRow: one invocation per row (shaders/rmsnorm.wgsl's main_per_row); lanes: the partial sums (default: the tuning's). */
  async rmsnorm(r: { x: Float32Array; weight: Float32Array; dim: number; eps: number; numTokens: number; gatherRows?: number[]; y0?: Float32Array; perRow?: boolean; lanes?: number }): Promise<Float32Array> {
    const gpu = await this.gpu();
    try {
      const gather = r.gatherRows !== undefined;
      const { step, sizes } = await this.stepFor(gpu, this.simpleBatch(r.numTokens, r.gatherRows ?? []));
      const x = await this.upload(gpu, "x", r.x);
      const g = await this.upload(gpu, "g", r.weight);
      const rows = gather ? r.gatherRows!.length : r.numTokens;
      const y = await this.upload(gpu, "y", r.y0 ?? new Float32Array(rows * r.dim));
      const call = await rmsnormCall(gpu, "lab rmsnorm", { step: step.uniform, x, weight: g, logitRows: step.logitRows, y },
        { dim: r.dim, eps: r.eps, gatherLogitRows: gather, accumulate: r.y0 !== undefined, lanes: r.lanes ?? chooseTuning(gpu).reduceWorkgroupSize, perRow: r.perRow });
      this.run(gpu, [call], sizes);
      return await this.read(gpu, y, rows * r.dim * 4);
    } finally {
      gpu.memory.destroyAll();
    }
  }

  async headNorm(r: { q: Float32Array; k: Float32Array; qNorm: Float32Array; kNorm: Float32Array; qHeads: number; kvHeads: number; headDim: number; eps: number; numTokens: number }) {
    const gpu = await this.gpu();
    try {
      const { step, sizes } = await this.stepFor(gpu, this.simpleBatch(r.numTokens));
      const q = await this.upload(gpu, "q", r.q);
      const k = await this.upload(gpu, "k", r.k);
      const call = await headNormCall(gpu, "lab head norm",
        { step: step.uniform, q, k, qNorm: await this.upload(gpu, "q norm", r.qNorm), kNorm: await this.upload(gpu, "k norm", r.kNorm) },
        { qHeads: r.qHeads, kvHeads: r.kvHeads, headDim: r.headDim, eps: r.eps, workgroupSize: chooseTuning(gpu).reduceWorkgroupSize });
      this.run(gpu, [call], sizes);
      return { q: await this.read(gpu, q, r.q.byteLength), k: await this.read(gpu, k, r.k.byteLength) };
    } finally {
      gpu.memory.destroyAll();
    }
  }

  /** y: [rows, n] with rows = numTokens (bias, scale) or logit rows (softcap). */
  async pointwise(r: { y: Float32Array; n: number; rows: number; op: "bias" | "scale" | "softcap"; bias?: Float32Array; factor?: number }): Promise<Float32Array> {
    const gpu = await this.gpu();
    try {
      const rowIds = [...Array(r.rows).keys()];
      const { step, sizes } = await this.stepFor(gpu, this.simpleBatch(r.rows, r.op === "softcap" ? rowIds : []));
      const y = await this.upload(gpu, "y", r.y);
      const operation = r.op === "bias" ? { op: "bias" as const, bias: await this.upload(gpu, "bias", r.bias!) }
        : r.op === "scale" ? { op: "scale" as const, factor: r.factor! } : { op: "softcap" as const, cap: r.factor! };
      const call = await pointwiseCall(gpu, "lab pointwise", { step: step.uniform, y }, { n: r.n, rowStride: r.n, workgroupSize: chooseTuning(gpu).workgroupSize }, operation);
      this.run(gpu, [call], sizes);
      return await this.read(gpu, y, r.y.byteLength);
    } finally {
      gpu.memory.destroyAll();
    }
  }

  async rope(r: {
    q: Float32Array; k: Float32Array; positions: number[]; qHeads: number; kvHeads: number; headDim: number; ropeDim: number; freqBase: number;
    neox?: boolean;
  }) {
    const gpu = await this.gpu();
    try {
      const batch = this.simpleBatch(r.positions.length, [], undefined, r.positions);
      const { step, sizes } = await this.stepFor(gpu, batch, { ropeDim: r.ropeDim, freqBase: r.freqBase });
      const q = await this.upload(gpu, "q", r.q);
      const k = await this.upload(gpu, "k", r.k);
      const call = await ropeCall(gpu, "lab rope", { step: step.uniform, cosSin: step.cosSin[0]!, q, k },
        { qHeads: r.qHeads, kvHeads: r.kvHeads, headDim: r.headDim, ropeDim: r.ropeDim, neox: r.neox ?? false, workgroupSize: chooseTuning(gpu).workgroupSize });
      this.run(gpu, [call], sizes);
      return { q: await this.read(gpu, q, r.q.byteLength), k: await this.read(gpu, k, r.k.byteLength) };
    } finally {
      gpu.memory.destroyAll();
    }
  }

  /**
   * RoPE then the KV append for one sequence's new tokens at `positions` (its block table 0, 1, …): as two dispatches
   * (rope.wgsl, kv_append.wgsl) or, with `inAppend`, as kv_append.wgsl's main_rope. Returns q and k after RoPE and
   * layer 0's pool words.
   */
  async ropeAppend(r: {
    q: Float32Array; k: Float32Array; v: Float32Array; positions: number[]; qHeads: number; kvHeads: number; headDim: number; ropeDim: number;
    freqBase: number; blockSize: number; kvFormat?: KvCacheFormat; inAppend: boolean;
  }): Promise<{ q: Float32Array; k: Float32Array; pool: Uint32Array }> {
    const gpu = await this.gpu();
    try {
      const format = r.kvFormat ?? F32_KV;
      const n = r.positions.length;
      const blocks = Math.floor(Math.max(...r.positions) / r.blockSize) + 1;
      const pool = await KvPool.create(gpu, { layers: 1, kvHeads: r.kvHeads, headDim: r.headDim }, { blockSize: r.blockSize, format, numBlocks: blocks, tails: hasTail(format) ? 1 : 0 });
      const blockTable = [...Array(blocks).keys()];
      const batch: StepBatch = {
        tokens: r.positions.map((position) => ({ id: 0, seq: 0, position, slot: position })),
        seqs: [{ contextLen: Math.max(...r.positions) + 1, blockTable, firstToken: 0, numTokens: n, tail: 0 }],
        logitRows: [],
      };
      const { step, sizes } = await this.stepFor(gpu, batch, { ropeDim: r.ropeDim, freqBase: r.freqBase });
      const vOffsetBytes = stepKvValueOffset(r.k.byteLength, gpu.limits.minStorageBufferOffsetAlignment);
      const kvNewBuffer = await this.upload(gpu, "k, v", new Uint8Array(vOffsetBytes + r.k.byteLength));
      gpu.device.queue.writeBuffer(kvNewBuffer, 0, r.k);
      gpu.device.queue.writeBuffer(kvNewBuffer, vOffsetBytes, r.v);
      const { k, v } = stepKvRows(kvNewBuffer, r.k.byteLength, vOffsetBytes);
      const q = await this.upload(gpu, "q", r.q);
      const kvPool = pool.layerBindings[0]!;
      const wg = chooseTuning(gpu).workgroupSize;
      const writes = { step: step.uniform, tokens: step.tokens, seqs: step.seqs, k, v, kvPool, blockTables: step.blockTables };
      const shape = { ...pool.kernelShape, workgroupSize: wg };
      const calls = r.inAppend
        ? [await kvAppendCall(gpu, "lab append with rope", writes, shape, { q, cosSin: step.cosSin[0]!, qHeads: r.qHeads, ropeDim: r.ropeDim })]
        : [
          await ropeCall(gpu, "lab rope", { step: step.uniform, cosSin: step.cosSin[0]!, q, k },
            { qHeads: r.qHeads, kvHeads: r.kvHeads, headDim: r.headDim, ropeDim: r.ropeDim, neox: false, workgroupSize: wg }),
          await kvAppendCall(gpu, "lab append", writes, shape),
        ];
      this.run(gpu, calls, sizes);
      return {
        q: await this.read(gpu, q, r.q.byteLength),
        k: await this.read(gpu, kvNewBuffer, r.k.byteLength),
        pool: new Uint32Array((await this.read(gpu, kvPool.buffer, kvPool.size)).buffer),
      };
    } finally {
      gpu.memory.destroyAll();
    }
  }

  /** ids[r] = argmax of row r of logits [rows × vocab], on the GPU. */
  async argmax(r: { logits: Float32Array; vocab: number; rows: number; workgroupSize?: number }): Promise<Uint32Array> {
    const gpu = await this.gpu();
    try {
      const { step, sizes } = await this.stepFor(gpu, this.simpleBatch(r.rows, [...Array(r.rows).keys()]));
      const logits = await this.upload(gpu, "logits", r.logits);
      const ids = await this.upload(gpu, "ids", new Uint32Array(r.rows));
      this.run(gpu, [await argmaxCall(gpu, "lab argmax", { step: step.uniform, logits, ids }, { vocab: r.vocab, workgroupSize: r.workgroupSize ?? chooseTuning(gpu).argmaxWorkgroupSize })], sizes);
      return new Uint32Array((await this.read(gpu, ids, r.rows * 4)).buffer);
    } finally {
      gpu.memory.destroyAll();
    }
  }

  async glu(r: { gate: Float32Array; up: Float32Array; ffnDim: number; numTokens: number; activation?: GatedActivation }): Promise<Float32Array> {
    const gpu = await this.gpu();
    try {
      const { step, sizes } = await this.stepFor(gpu, this.simpleBatch(r.numTokens));
      const gate = await this.upload(gpu, "gate", r.gate);
      const up = await this.upload(gpu, "up", r.up);
      const call = await gluCall(gpu, "lab glu", { step: step.uniform, up, gate },
        { ffnDim: r.ffnDim, activation: r.activation ?? "silu", workgroupSize: chooseTuning(gpu).workgroupSize });
      this.run(gpu, [call], sizes);
      return await this.read(gpu, gate, r.gate.byteLength);
    } finally {
      gpu.memory.destroyAll();
    }
  }

  /**
   * Attention over a paged cache: `batch` says which tokens are new (their k/v rows are appended with the
   * append kernel, then attention runs for them). Earlier tokens of each sequence are appended in a first
   * step. Returns the attention output [num new tokens, qHeads·headDim].
   */
  async attention(r: {
    kind: "naive" | "flash";
    /** Flash only: split-K chunking and K/V tile staging (defaults: the adapter's tuning). */
    decodeMinChunk?: number;
    decodeMaxChunks?: number;
    sharedTiles?: boolean;
    /** Flash only: the decode and prefill kernels (default: the adapter's tuning). */
    decodeAttention?: "per-head" | "grouped";
    prefillAttention?: "tiled" | "grouped";
    /** KV cache format (default f32). */
    kvFormat?: KvCacheFormat;
    /** Also return layer 0's pool words (blocks, then tails) for a CPU decode. */
    returnPool?: boolean;
    qHeads: number; kvHeads: number; headDim: number; blockSize: number; numBlocks: number; window: number;
    /** Query scale (default 1/√headDim) and score soft-cap (default off). */
    scale?: number;
    softcap?: number;
    /** Per sequence: its block table, its cached tokens' k/v ([len, kvHeads·headDim]), and its new tokens. */
    seqs: { blockTable: number[]; contextK: Float32Array; contextV: Float32Array; contextLen: number; newK: Float32Array; newV: Float32Array; q: Float32Array; numNew: number }[];
  }): Promise<{ out: Float32Array; pool?: Uint32Array; tailOffsetWords?: number }> {
    const gpu = await this.gpu();
    try {
      const format = r.kvFormat ?? F32_KV;
      const tails = hasTail(format) ? r.seqs.length : 0;
      const pool = await KvPool.create(gpu, { layers: 1, kvHeads: r.kvHeads, headDim: r.headDim }, { blockSize: r.blockSize, format, numBlocks: r.numBlocks, tails });
      const kvShape = pool.kernelShape;
      const defaults = chooseTuning(gpu);
      const tuning = {
        ...defaults,
        decodeMinChunk: r.decodeMinChunk ?? defaults.decodeMinChunk,
        decodeMaxChunks: r.decodeMaxChunks ?? defaults.decodeMaxChunks,
        flashSharedTiles: r.sharedTiles ?? defaults.flashSharedTiles,
        decodeAttention: r.decodeAttention ?? defaults.decodeAttention,
        prefillAttention: r.prefillAttention ?? defaults.prefillAttention,
      };
      const slotOf = (table: number[], p: number) => table[Math.floor(p / r.blockSize)]! * r.blockSize + (p % r.blockSize);
      // Phase 1 writes every sequence's cached context (as a step of its own, sealing the blocks it fills);
      // phase 2 appends the new tokens and runs attention for them.
      const runPhase = async (which: "context" | "new") => {
        const batch: StepBatch = { tokens: [], seqs: [], logitRows: [], seals: [] };
        const k: Float32Array[] = [];
        const v: Float32Array[] = [];
        const q: Float32Array[] = [];
        r.seqs.forEach((s, i) => {
          const count = which === "context" ? s.contextLen : s.numNew;
          const start = which === "context" ? 0 : s.contextLen;
          const firstToken = batch.tokens.length;
          for (let j = 0; j < count; j++) batch.tokens.push({ id: 0, seq: i, position: start + j, slot: slotOf(s.blockTable, start + j) });
          batch.seqs.push({ contextLen: start + count, blockTable: s.blockTable, firstToken, numTokens: count, tail: i });
          if (tails > 0) for (let b = Math.floor(start / r.blockSize); b < Math.floor((start + count) / r.blockSize); b++) batch.seals!.push([i, b]);
          k.push(which === "context" ? s.contextK : s.newK);
          v.push(which === "context" ? s.contextV : s.newV);
          if (which === "new") q.push(s.q);
        });
        if (batch.tokens.length === 0) return undefined;
        const { step, sizes } = await this.stepFor(gpu, batch);
        // This step's k rows then v rows in one buffer, v at an aligned offset (as the model lays them out).
        const kRows = concatFloats(k);
        const vOffsetBytes = stepKvValueOffset(kRows.byteLength, gpu.limits.minStorageBufferOffsetAlignment);
        const kvNewBuffer = await this.upload(gpu, "k, v", new Uint8Array(vOffsetBytes + kRows.byteLength));
        gpu.device.queue.writeBuffer(kvNewBuffer, 0, kRows);
        gpu.device.queue.writeBuffer(kvNewBuffer, vOffsetBytes, concatFloats(v));
        const { kvNew, k: kBuf, v: vBuf } = stepKvRows(kvNewBuffer, kRows.byteLength, vOffsetBytes);
        const kvPool = pool.layerBindings[0]!;
        const calls: KernelCall[] = [
          ...(await kvSealCalls(gpu, "lab seal", { step: step.uniform, seqs: step.seqs, blockTables: step.blockTables, seals: step.seals, k: kBuf, v: vBuf, kvPool },
            { ...kvShape, workgroupSize: tuning.workgroupSize })),
          await kvAppendCall(gpu, "lab append", { step: step.uniform, tokens: step.tokens, seqs: step.seqs, k: kBuf, v: vBuf, kvPool, blockTables: step.blockTables },
            { ...kvShape, workgroupSize: tuning.workgroupSize }),
        ];
        let out: GPUBuffer | undefined;
        if (which === "new") {
          const qBuf = await this.upload(gpu, "q", concatFloats(q));
          out = await this.upload(gpu, "out", new Float32Array(batch.tokens.length * r.qHeads * r.headDim));
          const common = { step: step.uniform, tokens: step.tokens, seqs: step.seqs, blockTables: step.blockTables, kvPool, q: qBuf, out, kvNew };
          const shape = { ...kvShape, qHeads: r.qHeads, window: r.window, scale: r.scale, softcap: r.softcap };
          if (r.kind === "naive") {
            const scores = await this.upload(gpu, "scores", new Float32Array(sizes.numTokens * r.qHeads * sizes.maxContext));
            calls.push(...(await naiveAttentionCalls(gpu, "lab attention", { ...common, scores },
              { ...shape, workgroupSize: tuning.workgroupSize, reduceWorkgroupSize: tuning.reduceWorkgroupSize })));
          } else {
            const partials = await this.upload(gpu, "partials", new Uint8Array(flashPartialBytes(sizes.numSeqs, r.qHeads, r.headDim, tuning)));
            calls.push(...(await flashAttentionCalls(gpu, "lab attention", { ...common, partials }, shape, tuning)));
          }
        }
        this.run(gpu, calls, sizes);
        return out ? this.read(gpu, out, batch.tokens.length * r.qHeads * r.headDim * 4) : undefined;
      };
      await runPhase("context");
      const out = (await runPhase("new"))!;
      if (!r.returnPool) return { out };
      const layer = pool.layerBindings[0]!;
      const words = new Uint32Array((await this.read(gpu, layer.buffer, layer.size)).buffer);
      return { out, pool: words, tailOffsetWords: (r.numBlocks * pool.blockBytes) / 4 };
    } finally {
      gpu.memory.destroyAll();
    }
  }
}

export const LAB_METHODS = ["matmul", "quantizeX", "embedding", "rmsnorm", "headNorm", "pointwise", "rope", "ropeAppend", "glu", "argmax", "attention"] as const;
