// One forward step's inputs on the GPU: which tokens (id, sequence, position, KV slot), which sequences
// (context length, block table), which rows produce logits, and the RoPE angles of the tokens.
// Layouts match TokenInfo / SeqInfo in shaders/kv_cache.wgsl and the Step uniform of every kernel.

import type { GpuContext } from "../gpu/device.js";
import type { StepSizes } from "../kernels/kernel-call.js";
import { ropeCosSin, type RopeAngles } from "./rope.js";

export interface StepToken {
  id: number;
  /** Index into StepBatch.seqs. */
  seq: number;
  position: number;
  /** Physical KV slot: block · blockSize + offset. */
  slot: number;
}

export interface StepSequence {
  /** Tokens in the cache once this step's tokens are stored. */
  contextLen: number;
  blockTable: number[];
  firstToken: number;
  numTokens: number;
  /** Full-precision tail slot (quantized KV formats); 0 otherwise. */
  tail?: number;
}

export interface StepBatch {
  tokens: StepToken[];
  seqs: StepSequence[];
  /** Token indices whose logits are returned, in order. */
  logitRows: number[];
  /** Blocks filling up in this step: (index into seqs, logical block). Only quantized formats need them. */
  seals?: [number, number][];
}

export interface StepCapacity {
  maxTokens: number;
  maxSeqs: number;
  maxBlockTableEntries: number;
  maxLogitRows: number;
  /** Blocks that can fill up in one step: a step's tokens span at most maxTokens / blockSize + maxSeqs blocks. */
  maxSeals: number;
}


export class StepBuffers {
  readonly uniform: GPUBuffer;
  readonly tokens: GPUBuffer;
  readonly seqs: GPUBuffer;
  readonly blockTables: GPUBuffer;
  readonly logitRows: GPUBuffer;
  /** One cos/sin table per RoPE group of layers (Gemma 3's local layers have their own base). */
  readonly cosSin: GPUBuffer[];
  readonly seals: GPUBuffer;

  private constructor(
    private readonly gpu: GpuContext,
    readonly capacity: StepCapacity,
    private readonly ropes: RopeAngles[],
    buffers: GPUBuffer[],
  ) {
    [this.uniform, this.tokens, this.seqs, this.blockTables, this.logitRows, this.seals] = buffers as [
      GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer, GPUBuffer,
    ];
    this.cosSin = buffers.slice(6);
  }

  static async create(gpu: GpuContext, capacity: StepCapacity, ropes: RopeAngles[]): Promise<StepBuffers> {
    const storage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST;
    const allocate = (label: string, bytes: number, usage = storage) => gpu.memory.allocate("activations", label, bytes, usage);
    const buffers = await Promise.all([
      allocate("step sizes", 32, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST),
      allocate("step tokens", capacity.maxTokens * 16),
      allocate("step sequences", capacity.maxSeqs * 32),
      allocate("block tables", capacity.maxBlockTableEntries * 4),
      allocate("logit rows", capacity.maxLogitRows * 4),
      allocate("seal list", Math.max(1, capacity.maxSeals) * 8),
      ...ropes.map((rope, i) => allocate(i === 0 ? "rope cos/sin" : `rope cos/sin (group ${i})`, capacity.maxTokens * (rope.ropeDim / 2) * 8)),
    ]);
    return new StepBuffers(gpu, capacity, ropes, buffers);
  }

  /** Validates the batch against the capacity and uploads it; returns the sizes kernels dispatch on. */
  write(batch: StepBatch): StepSizes {
    const { tokens, seqs, logitRows } = batch;
    const cap = this.capacity;
    const tableEntries = seqs.reduce((n, s) => n + s.blockTable.length, 0);
    if (tokens.length < 1 || tokens.length > cap.maxTokens) throw new Error(`a step holds 1..${cap.maxTokens} tokens, got ${tokens.length}`);
    if (seqs.length > cap.maxSeqs) throw new Error(`a step holds at most ${cap.maxSeqs} sequences, got ${seqs.length}`);
    if (tableEntries > cap.maxBlockTableEntries) {
      throw new Error(`block tables of ${tableEntries} entries exceed the step capacity of ${cap.maxBlockTableEntries}`);
    }
    if (logitRows.length > cap.maxLogitRows) throw new Error(`at most ${cap.maxLogitRows} logit rows per step, got ${logitRows.length}`);
    const seals = batch.seals ?? [];
    if (seals.length > cap.maxSeals) throw new Error(`at most ${cap.maxSeals} blocks can seal in a step, got ${seals.length}`);

    const tokenWords = new Uint32Array(tokens.length * 4);
    tokens.forEach((t, i) => tokenWords.set([t.id, t.seq, t.position, t.slot], i * 4));
    const seqWords = new Uint32Array(Math.max(1, seqs.length) * 8);
    const tables = new Uint32Array(Math.max(1, tableEntries));
    let tableOffset = 0;
    let maxContext = 0;
    let maxSeqTokens = 0;
    let numDecodeSeqs = 0;
    seqs.forEach((s, i) => {
      seqWords.set([s.contextLen, tableOffset, s.firstToken, s.numTokens, s.tail ?? 0, 0, 0, 0], i * 8);
      tables.set(s.blockTable, tableOffset);
      tableOffset += s.blockTable.length;
      maxContext = Math.max(maxContext, s.contextLen);
      maxSeqTokens = Math.max(maxSeqTokens, s.numTokens);
      if (s.numTokens === 1) numDecodeSeqs++;
    });
    const queue = this.gpu.device.queue;
    const sizes: StepSizes = {
      numTokens: tokens.length,
      numSeqs: seqs.length,
      numLogitRows: logitRows.length,
      maxContext,
      maxSeqTokens,
      numDecodeSeqs,
      numSeals: seals.length,
    };
    queue.writeBuffer(
      this.uniform,
      0,
      new Uint32Array([
        sizes.numTokens, sizes.numSeqs, sizes.numLogitRows, sizes.maxContext,
        sizes.maxSeqTokens, sizes.numDecodeSeqs, sizes.numSeals, 0,
      ]),
    );
    queue.writeBuffer(this.tokens, 0, tokenWords);
    queue.writeBuffer(this.seqs, 0, seqWords);
    queue.writeBuffer(this.blockTables, 0, tables);
    if (logitRows.length > 0) queue.writeBuffer(this.logitRows, 0, new Uint32Array(logitRows));
    if (seals.length > 0) queue.writeBuffer(this.seals, 0, new Uint32Array(seals.flat()));
    const positions = tokens.map((t) => t.position);
    this.ropes.forEach((rope, i) => queue.writeBuffer(this.cosSin[i]!, 0, ropeCosSin(positions, rope)));
    return sizes;
  }
}
