// The engine: a loaded model plus the sequences living in its KV cache. One call to `step` runs any
// mix of sequences — prompt chunks and single decode tokens — as one batched forward pass.

import { BlockAllocator } from "../kv/allocator.js";
import { concatFloats } from "../util/concat.js";
import { SequenceTable, type SlotReservation } from "../kv/sequences.js";
import type { SubmittedStep, TransformerModel } from "../model/forward.js";
import { argmax } from "./sampler.js";
import type { StepBatch, StepSequence, StepToken } from "../model/step.js";

export interface StepRequest {
  seqId: number;
  /** Tokens to append to the sequence in this step. */
  ids: number[];
  /** Which of these tokens' logits to return; "argmax": only the last position's most likely id (greedy). */
  logits: "none" | "last" | "all" | "argmax";
}

/** A step submitted to the GPU (Engine.submit): its results, or, if they are not wanted, its undoing. */
export interface PendingStep {
  /** Waits for the step and returns one result per request. On an error every sequence is as before the step. */
  results(): Promise<StepResult[]>;
  /** After results(): takes the step's tokens out of its sequences (those still alive) as if it had not run. */
  rollback(): void;
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
    return (await this.submit(requests)).results();
  }

  /** Sequences whose argmax ids the last submitted step computes, in its logit-row order (for chained steps). */
  private lastArgmaxSeqs: number[] = [];

  /**
   * Submits one step (as `step`) and returns without waiting for the GPU. With `chained`, every request is one
   * greedy decode token whose id is the argmax the previous submitted step computes for that sequence — read on the
   * GPU, so this step can be queued before that id has come back; the requests name exactly that step's argmax
   * sequences, in order (their ids are placeholders).
   */
  /**
   * Whether a chained step of one token for each of these sequences can be queued now: steps are chained
   * (model.canChain) and the pool has the blocks the tokens need.
   */
  canChainStep(seqIds: number[]): boolean {
    return this.model.canChain && seqIds.reduce((n, id) => n + this.sequences.blocksNeeded(id, 1), 0) <= this.sequences.allocator.freeBlocks;
  }

  async submit(requests: StepRequest[], options: { chained?: boolean } = {}): Promise<PendingStep> {
    const chained = options.chained ?? false;
    if (chained) {
      const seqs = requests.map((r) => r.seqId);
      if (requests.some((r) => r.ids.length !== 1 || r.logits !== "argmax") || seqs.join() !== this.lastArgmaxSeqs.join()) {
        throw new Error(`a chained step takes one argmax token for each sequence of the previous step's argmax rows (${this.lastArgmaxSeqs.join(", ")}), got ${seqs.join(", ")}`);
      }
      if (!this.model.canChain) throw new Error("steps are not chained: tuning.chainDepth is 1, or kernels are being profiled");
    }
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
    // Undone newest first when several steps are undone (a later step's undo never lengthens a sequence).
    const undo = () => requests.slice(0, reservations.length).forEach((r, i) => {
      if (this.sequences.has(r.seqId) && this.sequences.get(r.seqId).length > lengthsBefore[i]!) this.sequences.truncate(r.seqId, lengthsBefore[i]!);
    });
    try {
      for (const r of requests) reservations.push(this.sequences.append(r.seqId, r.ids.length));
    } catch (error) {
      undo();
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
      undo();
      throw new Error(`a step returns at most ${this.model.maxLogitRows} logit rows, asked for ${logitRows.length}`);
    }
    const batch: StepBatch = { tokens, seqs, logitRows, seals };
    // Only argmax ids wanted: the GPU picks them and the step reads back 4 bytes a row instead of the logits.
    const onlyArgmax = requests.some((r) => r.logits === "argmax") && requests.every((r) => r.logits === "argmax" || r.logits === "none");
    let submitted: SubmittedStep;
    try {
      submitted = await this.model.submit(batch, reservations.flatMap((r) => r.copies), this.sequences.takeTailCopies(), onlyArgmax ? "argmax" : "logits", chained);
    } catch (error) {
      // The step did not run: give the reserved slots back so every sequence is as it was.
      undo();
      this.lastArgmaxSeqs = [];
      throw error;
    }
    this.lastArgmaxSeqs = onlyArgmax ? requests.filter((r) => r.logits === "argmax" && r.ids.length > 0).map((r) => r.seqId) : [];

    const vocab = this.vocabSize;
    const results = async (): Promise<StepResult[]> => {
      let output: Float32Array | Uint32Array;
      try {
        output = await submitted.result();
      } catch (error) {
        undo();
        throw error;
      }
      const stepResults: StepResult[] = [];
      let row = 0;
      for (const r of requests) {
        const rows = r.logits === "all" ? r.ids.length : r.logits !== "none" && r.ids.length > 0 ? 1 : 0;
        if (r.logits === "argmax" && rows === 1) {
          const id = onlyArgmax ? output[row]! : argmax(output.subarray(row * vocab, (row + 1) * vocab));
          stepResults.push({ seqId: r.seqId, logits: new Float32Array(0), argmax: id });
        } else {
          stepResults.push({ seqId: r.seqId, logits: (output as Float32Array).subarray(row * vocab, (row + rows) * vocab) });
        }
        row += rows;
      }
      return stepResults;
    };
    return { results, rollback: undo };
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
