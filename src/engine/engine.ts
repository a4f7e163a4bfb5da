// The engine: a loaded model plus the sequences living in its KV cache. One call to `step` runs any
// mix of sequences — prompt chunks and single decode tokens — as one batched forward pass.

import { BlockAllocator } from "../kv/allocator.js";
import { concatFloats } from "../util/concat.js";
import { SequenceTable, type SlotReservation } from "../kv/sequences.js";
import type { TransformerModel } from "../model/forward.js";
import { argmax } from "./sampler.js";
import type { StepBatch, StepSequence, StepToken } from "../model/step.js";

export interface StepRequest {
  seqId: number;
  /** Tokens to append to the sequence in this step. */
  ids: number[];
  /** Which of these tokens' logits to return; "argmax": only the last position's most likely id (greedy). */
  logits: "none" | "last" | "all" | "argmax";
}

export interface StepResult {
  seqId: number;
  /** [rows × vocab]: one row per requested position (the last, or all); empty for "argmax". */
  logits: Float32Array;
  /** "argmax" requests: the last position's most likely id (the first on ties, as argmax() of its logits). */
  argmax?: number;
}

export class Engine {
  readonly sequences: SequenceTable;

  constructor(readonly model: TransformerModel) {
    const pool = model.kvPool;
    this.sequences = new SequenceTable(new BlockAllocator(pool.settings.numBlocks), pool.settings.blockSize, pool.settings.tails);
  }

  get vocabSize(): number {
    return this.model.config.vocabSize;
  }

  /** Tokens one sequence may hold: the model's context, capped by what the pool can ever give it. */
  get maxSequenceLength(): number {
    const poolTokens = this.model.kvPool.settings.numBlocks * this.model.kvPool.settings.blockSize;
    return Math.min(this.model.config.contextLength, poolTokens);
  }

  /**
   * Runs one forward step over the requests (each sequence at most once). Reserves KV slots first:
   * if the pool is exhausted, KvPoolExhaustedError is thrown and no sequence has changed.
   */
  async step(requests: StepRequest[]): Promise<StepResult[]> {
    const tokenCount = requests.reduce((n, r) => n + r.ids.length, 0);
    if (tokenCount > this.model.maxStepTokens) throw new Error(`step of ${tokenCount} tokens exceeds ${this.model.maxStepTokens}`);
    for (const r of requests) {
      const length = this.sequences.get(r.seqId).length + r.ids.length;
      if (length > this.model.config.contextLength) {
        throw new ContextOverflowError(`sequence ${r.seqId} would hold ${length} tokens, beyond the model's context of ${this.model.config.contextLength}`);
      }
    }
    const reservations: SlotReservation[] = [];
    const lengthsBefore = requests.map((r) => this.sequences.get(r.seqId).length);
    try {
      for (const r of requests) reservations.push(this.sequences.append(r.seqId, r.ids.length));
    } catch (error) {
      requests.slice(0, reservations.length).forEach((r, i) => this.sequences.truncate(r.seqId, lengthsBefore[i]!));
      throw error;
    }

    const tokens: StepToken[] = [];
    const seqs: StepSequence[] = [];
    const logitRows: number[] = [];
    const seals: [number, number][] = [];
    const blockSize = this.sequences.blockSize;
    const sealing = this.sequences.tails > 0;
    requests.forEach((r, i) => {
      const sequence = this.sequences.get(r.seqId);
      const firstToken = tokens.length;
      r.ids.forEach((id, j) => {
        tokens.push({ id, seq: i, position: lengthsBefore[i]! + j, slot: reservations[i]!.slots[j]! });
      });
      seqs.push({ contextLen: sequence.length, blockTable: sequence.blocks, firstToken, numTokens: r.ids.length, tail: sequence.tail });
      // Blocks that fill up in this step are quantized (sealed) by the step.
      if (sealing) {
        for (let block = Math.floor(lengthsBefore[i]! / blockSize); block < Math.floor(sequence.length / blockSize); block++) seals.push([i, block]);
      }
      if (r.logits === "all") for (let j = 0; j < r.ids.length; j++) logitRows.push(firstToken + j);
      if ((r.logits === "last" || r.logits === "argmax") && r.ids.length > 0) logitRows.push(firstToken + r.ids.length - 1);
    });
    if (logitRows.length > this.model.maxLogitRows) {
      throw new Error(`a step returns at most ${this.model.maxLogitRows} logit rows, asked for ${logitRows.length}`);
    }
    const batch: StepBatch = { tokens, seqs, logitRows, seals };
    // Only argmax ids wanted: the GPU picks them and the step reads back 4 bytes a row instead of the logits.
    const onlyArgmax = requests.some((r) => r.logits === "argmax") && requests.every((r) => r.logits === "argmax" || r.logits === "none");
    let output: Float32Array | Uint32Array;
    try {
      output = await this.model.forward(batch, reservations.flatMap((r) => r.copies), this.sequences.takeTailCopies(), onlyArgmax ? "argmax" : "logits");
    } catch (error) {
      // The step did not run: give the reserved slots back so every sequence is as it was.
      requests.forEach((r, i) => this.sequences.truncate(r.seqId, lengthsBefore[i]!));
      throw error;
    }

    const vocab = this.vocabSize;
    const results: StepResult[] = [];
    let row = 0;
    for (const r of requests) {
      const rows = r.logits === "all" ? r.ids.length : r.logits !== "none" && r.ids.length > 0 ? 1 : 0;
      if (r.logits === "argmax" && rows === 1) {
        const id = onlyArgmax ? output[row]! : argmax(output.subarray(row * vocab, (row + 1) * vocab));
        results.push({ seqId: r.seqId, logits: new Float32Array(0), argmax: id });
      } else {
        results.push({ seqId: r.seqId, logits: (output as Float32Array).subarray(row * vocab, (row + rows) * vocab) });
      }
      row += rows;
    }
    return results;
  }

  /**
   * Appends a whole prompt to a sequence in chunks no larger than a step, returning the logits asked
   * for ("last": the final position's; "all": every position's, concatenated).
   */
  async prefill(seqId: number, ids: number[], logits: "last" | "all" | "none"): Promise<Float32Array> {
    const chunk = logits === "all" ? Math.min(this.model.maxStepTokens, this.model.maxLogitRows) : this.model.maxStepTokens;
    const parts: Float32Array[] = [];
    for (let start = 0; start < ids.length; start += chunk) {
      const piece = ids.slice(start, start + chunk);
      const isLast = start + chunk >= ids.length;
      const want = logits === "all" ? "all" : logits === "last" && isLast ? "last" : "none";
      const [result] = await this.step([{ seqId, ids: piece, logits: want }]);
      if (result!.logits.length > 0) parts.push(result!.logits.slice());
    }
    return concatFloats(parts);
  }
}

export class ContextOverflowError extends Error {
  readonly code = "context_overflow";
}
