// Many sequences at once on stories260K: a batch of 8 different prompts (all at once, and with only 3
// running so sequences join as others leave) gives exactly the single-sequence outputs; --parallel shares
// the prompt's blocks and each branch equals the single run with its seed; a KV pool too small for the
// batch either preempts (and still gives the same outputs) or refuses with the documented error; prompts
// with a common prefix store its full blocks once and still give exactly their single-sequence outputs.

import { beforeAll, describe, expect, it } from "vitest";
import { parseFormatPair } from "../../src/cli/quality.js";
import { useBrowserSession } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";

const session = useBrowserSession();
const PROMPTS = ["Once upon a time", "Lily and Tom", "The little dog", "One day, a", "There was a big", "The sun was", "Tim liked to", "Sara had a red"];

interface Output { output_ids: number[]; stop_reason: string }
interface BatchReply {
  prompt_ids: number[][];
  outputs: Output[][];
  stats: { preemptions: number; steps: number; prefillTokens: number };
  kv: { blocks_used: number; utilization: number; shared_prefix_tokens: number };
  error?: string;
}

async function load(options: Record<string, unknown>): Promise<number> {
  const loaded = await session().call<{ modelId: number }>("load", { url: session().publishFile(modelPath("stories260K.gguf")), options });
  return loaded.modelId;
}

const batch = (modelId: number, requests: Record<string, unknown>[], extra: Record<string, unknown> = {}) =>
  session().call<BatchReply>("generateBatch", { modelId, requests, ...extra });

let singles: number[][] = [];
let modelId = 0;

beforeAll(async () => {
  modelId = await load({ maxSeqs: 8 });
  singles = [];
  for (const prompt of PROMPTS) {
    const reply = await batch(modelId, [{ prompt, maxTokens: 40 }]);
    singles.push(reply.outputs[0]![0]!.output_ids);
  }
});

describe("continuous batching", () => {
  it("8 prompts in one batch give exactly the single-sequence outputs", async () => {
    const reply = await batch(modelId, PROMPTS.map((prompt) => ({ prompt, maxTokens: 40 })));
    expect(reply.outputs.map((o) => o[0]!.output_ids)).toEqual(singles);
    expect(reply.stats.steps).toBeLessThan(8 * 40); // batched, not one sequence after another
  });

  it("with 3 sequences running, later ones join as earlier ones leave: same outputs", async () => {
    const lengths = [40, 12, 25, 40, 5, 33, 18, 40];
    const reply = await batch(modelId, PROMPTS.map((prompt, i) => ({ prompt, maxTokens: lengths[i] })), { maxRunning: 3 });
    expect(reply.outputs.map((o) => o[0]!.output_ids)).toEqual(singles.map((ids, i) => ids.slice(0, lengths[i])));
  });
});

describe("parallel continuations share the prompt's blocks", () => {
  it("greedy: every branch equals the single run", async () => {
    const reply = await batch(modelId, [{ prompt: PROMPTS[0], maxTokens: 40, parallel: 4 }]);
    expect(reply.outputs[0]!.map((o) => o.output_ids)).toEqual([singles[0], singles[0], singles[0], singles[0]]);
  });

  it("sampling: branch i equals the single run with seed + i (forked blocks read back intact after copy-on-write)", async () => {
    const sampling = { temperature: 0.9, topK: 50, topP: 0.95 };
    const long = "Once upon a time, there was a little girl named Lily. She loved to play outside"; // > 1 block
    const reply = await batch(modelId, [{ prompt: long, maxTokens: 30, parallel: 3, seed: 11, ...sampling }]);
    const branches = reply.outputs[0]!.map((o) => o.output_ids);
    for (let i = 0; i < 3; i++) {
      const single = await batch(modelId, [{ prompt: long, maxTokens: 30, seed: 11 + i, ...sampling }]);
      expect(branches[i]).toEqual(single.outputs[0]![0]!.output_ids);
    }
    expect(new Set(branches.map((b) => b.join(","))).size).toBe(3);
  });
});

describe("common prompt prefixes", () => {
  const STORY = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends and her dog.";
  const ENDINGS = [" One day,", " She saw a big", " Her mom said", " The dog"];
  const commonLength = (a: number[], b: number[]) => {
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    return n;
  };

  it("are stored once (full blocks, adopted from the earlier sequence) and the outputs stay exact", async () => {
    const requests = ENDINGS.map((ending) => ({ prompt: STORY + ending, maxTokens: 30 }));
    const shared = await batch(modelId, requests);
    const unshared = await batch(modelId, requests, { prefixSharing: false });
    const alone = [];
    for (const request of requests) alone.push((await batch(modelId, [request])).outputs[0]![0]!.output_ids);

    const outputs = (reply: BatchReply) => reply.outputs.map((o) => o[0]!.output_ids);
    expect(outputs(shared)).toEqual(alone);
    expect(outputs(unshared)).toEqual(alone);

    // Each later prompt adopts the full blocks (16 tokens) it has in common with an earlier one, its last id kept.
    const ids = shared.prompt_ids;
    const expectedShared = ids.slice(1).reduce((total, own, i) => {
      const best = Math.max(...ids.slice(0, i + 1).map((earlier) => Math.min(commonLength(own, earlier), own.length - 1)));
      return total + Math.floor(best / 16) * 16;
    }, 0);
    expect(expectedShared).toBeGreaterThanOrEqual(3 * 32); // the story is over two blocks long
    expect(shared.kv.shared_prefix_tokens).toBe(expectedShared);
    expect(unshared.kv.shared_prefix_tokens).toBe(0);
    expect(shared.stats.prefillTokens).toBe(unshared.stats.prefillTokens - expectedShared);
    // Peak blocks: the shared ones counted once (sequences that waited for their prefix run a step behind).
    expect(shared.kv.blocks_used).toBeLessThanOrEqual(unshared.kv.blocks_used - expectedShared / 16);
  });

  it("with int8 KV, a later prompt reads the adopted (sealed) blocks exactly as its own chunked prefill would", async () => {
    // Later prompts adopt 32 tokens and compute the rest (< 32) in one chunk: the same arithmetic as a single
    // run whose prefill is cut into chunks of 32, where the second chunk reads the first from int8 blocks.
    const kvFormat = parseFormatPair("int8");
    const requests = ENDINGS.map((ending) => ({ prompt: STORY + ending, maxTokens: 30 }));
    const batched = await load({ maxSeqs: 8, kvFormat });
    const chunked = await load({ maxSeqs: 8, kvFormat, maxStepTokens: 32 });
    try {
      const shared = await batch(batched, requests);
      const later = shared.prompt_ids.slice(1);
      expect(later.every((ids) => ids.length > 32 && ids.length < 64)).toBe(true);
      expect(shared.kv.shared_prefix_tokens).toBe(later.length * 32);
      for (let i = 1; i < requests.length; i++) {
        const single = await batch(chunked, [requests[i]!]);
        expect(shared.outputs[i]![0]!.output_ids).toEqual(single.outputs[0]![0]!.output_ids);
      }
    } finally {
      for (const id of [batched, chunked]) await session().call("unload", { modelId: id });
    }
  });
});

describe("an exhausted KV pool", () => {
  let smallPool = 0;
  beforeAll(async () => {
    smallPool = await load({ maxSeqs: 8, kvBlocks: 10 }); // 160 token slots for 8 × (~5 + 40) tokens
  });

  it("preempt: sequences are evicted and recomputed, outputs unchanged", async () => {
    const reply = await batch(smallPool, PROMPTS.map((prompt) => ({ prompt, maxTokens: 40 })), { policy: "preempt" });
    expect(reply.stats.preemptions).toBeGreaterThan(0);
    expect(reply.outputs.map((o) => o[0]!.output_ids)).toEqual(singles);
    expect(reply.error).toBeUndefined();
  });

  it("refuse: sequences that need more blocks stop as kv_exhausted, with the named error; the rest complete", async () => {
    const reply = await batch(smallPool, PROMPTS.map((prompt) => ({ prompt, maxTokens: 40 })), { policy: "refuse" });
    expect(reply.error).toMatch(/KV cache exhausted: \d+ more block\(s\) needed, \d+ free of 10/);
    const reasons = reply.outputs.map((o) => o[0]!.stop_reason);
    expect(reasons).toContain("kv_exhausted");
    reply.outputs.forEach((o, i) => {
      const ids = o[0]!.output_ids;
      expect(ids).toEqual(singles[i]!.slice(0, ids.length)); // what was produced is still right
    });
  });

  it("a single run that cannot fit stops as kv_exhausted, keeping its tokens, with the named error", async () => {
    const reply = await session().call<{ output_ids: number[]; stop_reason: string; error?: string }>(
      "generate", { modelId: smallPool, promptIds: [1], maxTokens: 400 },
    );
    expect(reply.stop_reason).toBe("kv_exhausted");
    expect(reply.output_ids.length).toBeGreaterThan(100);
    expect(reply.error).toMatch(/KV cache exhausted: .* use --kv-policy preempt/);
    const preempting = await session().call<{ stop_reason: string; error?: string }>(
      "generate", { modelId: smallPool, promptIds: [1], maxTokens: 400, policy: "preempt" },
    );
    expect(preempting.error).toMatch(/preemption cannot help/);
    expect(preempting.error).not.toMatch(/use --kv-policy preempt/);
  });
});
