// Chained greedy decode (src/engine/scheduler.ts, Engine.submit with `chained`): the scheduler queues the next
// step before the last one's ids are back, the step reading its ids from the previous step's argmax on the GPU.
// Here the model is a stand-in that keeps that contract — a chained step's token i takes the argmax of row i of the
// step submitted before it — and whose "argmax" is a fixed function of the token fed and its position, so a
// chained run must produce exactly the ids of an unchained one. Checked: same outputs alone and in a batch,
// lookahead steps rolled back when a branch stops on an end id or the run is stopped (the pool ends empty, no
// step is left unread), and chaining really happens.

import { describe, expect, it } from "vitest";
import { Engine } from "../../src/engine/engine.js";
import { runScheduler, type SequenceRequest } from "../../src/engine/scheduler.js";
import type { TransformerModel } from "../../src/model/forward.js";
import type { StepBatch } from "../../src/model/step.js";

const VOCAB = 97;
const nextId = (id: number, position: number) => (id * 31 + position * 7 + 3) % VOCAB;

/** A model stand-in: argmax ids from nextId; chainDepth steps may be unread at once (as the GPU's staging buffers). */
function fakeModel(options: { chainDepth: number; blocks?: number }) {
  let previousArgmax: number[] = [];
  const stats = { submitted: 0, chained: 0, unread: 0, maxUnread: 0 };
  const model = {
    chainDepth: options.chainDepth,
    canChain: options.chainDepth > 1,
    maxStepTokens: 64,
    maxLogitRows: 8,
    config: { vocabSize: VOCAB, contextLength: 256 },
    step: { capacity: { maxSeqs: 8 } },
    kvPool: { settings: { numBlocks: options.blocks ?? 64, blockSize: 4, tails: 0 } },
    async submit(batch: StepBatch, _copies: unknown, _tails: unknown, readback: "logits" | "argmax", chained: boolean) {
      expect(readback).toBe("argmax");
      stats.submitted++;
      if (chained) stats.chained++;
      stats.unread++;
      stats.maxUnread = Math.max(stats.maxUnread, stats.unread);
      expect(stats.unread).toBeLessThanOrEqual(options.chainDepth);
      const ids = batch.tokens.map((t, i) => (chained ? previousArgmax[i]! : t.id));
      const argmax = batch.logitRows.map((row) => nextId(ids[row]!, batch.tokens[row]!.position));
      previousArgmax = argmax;
      return {
        result: async () => {
          await new Promise((resolve) => setTimeout(resolve, 1));
          stats.unread--;
          return Uint32Array.from(argmax);
        },
      };
    },
  };
  return { model: model as unknown as TransformerModel, stats };
}

async function run(requests: SequenceRequest[], chainDepth: number, shouldStop?: () => boolean) {
  const { model, stats } = fakeModel({ chainDepth });
  const engine = new Engine(model);
  const result = await runScheduler(engine, requests, { shouldStop });
  return { ...result, stats, engine };
}

/** The id the unchained run produces at output index n of a prompt, used as an end id to stop there. */
async function idAt(promptIds: number[], n: number): Promise<number> {
  const { outputs } = await run([{ promptIds, maxTokens: n + 1 }], 1);
  return outputs[0]![0]!.outputIds[n]!;
}

describe.each([2, 3])("chained greedy decode, %i steps in flight", (depth) => {
  it("gives the unchained ids, chaining every decode step but the first", async () => {
    const request = { promptIds: [1, 5, 9], maxTokens: 40 };
    const plain = await run([request], 1);
    const chained = await run([request], depth);
    expect(chained.outputs[0]![0]!.outputIds).toEqual(plain.outputs[0]![0]!.outputIds);
    expect(chained.outputs[0]![0]!.stopReason).toBe("max_tokens");
    // prefill, then 39 decode steps of which all but the first are queued chained; none is thrown away
    expect(chained.stats.submitted).toBe(plain.stats.submitted);
    expect(chained.stats.chained).toBe(38);
    expect(chained.stats.maxUnread).toBe(depth);
    expect(chained.stats.unread).toBe(0);
    expect(chained.engine.sequences.allocator.usedBlocks).toBe(0);
  });

  it("rolls the lookahead steps back when a branch meets an end id, and the pool ends empty", async () => {
    const promptIds = [1, 2, 3];
    const stop = await idAt(promptIds, 12);
    const request = { promptIds, maxTokens: 40, stopIds: [stop] };
    const plain = await run([request], 1);
    const chained = await run([request], depth);
    const output = chained.outputs[0]![0]!;
    expect(output.stopReason).toBe("eos");
    expect(output.outputIds).toEqual(plain.outputs[0]![0]!.outputIds);
    expect(output.outputIds.at(-1)).toBe(stop);
    expect(chained.stats.submitted).toBe(plain.stats.submitted + depth - 1); // the steps after the end id ran, unused
    expect(chained.stats.unread).toBe(0);
    expect(chained.engine.sequences.allocator.usedBlocks).toBe(0);
  });

  it("in a batch, a branch that stops early leaves the others' ids unchanged", async () => {
    const stop = await idAt([4, 4], 6);
    const requests: SequenceRequest[] = [
      { promptIds: [4, 4], maxTokens: 30, stopIds: [stop] },
      { promptIds: [7, 8, 9, 10, 11], maxTokens: 25 },
      { promptIds: [3], maxTokens: 33 },
    ];
    const plain = await run(requests, 1);
    const chained = await run(requests, depth);
    for (let i = 0; i < requests.length; i++) expect(chained.outputs[i]![0]).toEqual(plain.outputs[i]![0]);
    expect(chained.outputs[0]![0]!.stopReason).toBe("eos");
    expect(chained.stats.chained).toBeGreaterThan(0);
    expect(chained.stats.unread).toBe(0);
    expect(chained.engine.sequences.allocator.usedBlocks).toBe(0);
  });

  it("stopping the run between steps drops the lookahead steps", async () => {
    let tokens = 0;
    const { model, stats } = fakeModel({ chainDepth: depth });
    const engine = new Engine(model);
    const { outputs } = await runScheduler(engine, [{ promptIds: [1], maxTokens: 50 }], { shouldStop: () => tokens >= 10, onToken: () => tokens++ });
    expect(outputs[0]![0]!.stopReason).toBe("aborted");
    expect(outputs[0]![0]!.outputIds).toHaveLength(10);
    expect(stats.unread).toBe(0);
    expect(engine.sequences.allocator.usedBlocks).toBe(0);
  });
});
