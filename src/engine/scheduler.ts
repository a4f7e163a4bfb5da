// Continuous batching. Requests wait in a queue; each step the scheduler packs one token for every
// decoding sequence plus prompt chunks of prefilling ones (admitting new requests while there is room),
// runs them as one batched forward pass, samples, and retires finished sequences — so sequences join and
// leave between steps. `parallel: n` samples n continuations of one prompt that share its KV blocks.
//
// Common prompt prefixes are stored once: a sequence with nothing cached yet adopts the full KV blocks it
// shares with a sequence admitted before it (src/kv/sequences.ts adoptPrefix) and computes only the rest; if
// that sequence is still computing the shared part, it waits for it. With f32 KV the result is bit-identical
// to computing the prefix itself (the cached rows are the same numbers); with a lossy KV format the shared
// prefix is read back in that format, as any chunked prefill reads its earlier chunks.
//
// When the KV pool cannot hold a step, the exhaustion policy decides:
//   "refuse"  — the sequences that needed new blocks stop with stop_reason "kv_exhausted" (their tokens so
//               far are kept; result.error says why); the others go on.
//   "preempt" — the most recently admitted sequence is evicted, its blocks freed, and it is requeued to be
//               recomputed later from its prompt and the tokens it had generated (vLLM's recompute
//               preemption). A sequence that cannot fit even alone is refused.

import { KvPoolExhaustedError } from "../kv/allocator.js";
import { ContextOverflowError, Engine, type PendingStep, type StepRequest, type StepResult } from "./engine.js";
import { Sampler, type SamplingOptions } from "./sampler.js";
import { RequestError } from "./errors.js";

export type ExhaustionPolicy = "refuse" | "preempt";

export interface SequenceRequest extends SamplingOptions {
  promptIds: number[];
  maxTokens: number;
  stopIds?: number[];
  /** Continuations sampled from this prompt, sharing its KV blocks (seeds seed, seed+1, …). */
  parallel?: number;
  /** Keep the logits that produced each output token. */
  keepLogits?: boolean;
}

export type StopReason = "eos" | "max_tokens" | "context_full" | "kv_exhausted" | "aborted";

export interface SequenceOutput {
  outputIds: number[];
  stopReason: StopReason;
  logits?: Float32Array[];
}

export interface SchedulerStats {
  steps: number;
  prefillTokens: number;
  decodeTokens: number;
  /** Wall time until every prompt was prefilled / spent in steps that only decoded. */
  prefillMs: number;
  decodeMs: number;
  /** Peak KV blocks in use, and the token slots used / allocated at that moment. */
  peakBlocksUsed: number;
  slotsUsedAtPeak: number;
  slotsAllocatedAtPeak: number;
  preemptions: number;
  /** Prompt tokens not computed because their KV blocks were adopted from another sequence's prefix. */
  sharedPrefixTokens: number;
  /** Set when a sequence was refused for lack of KV blocks. */
  error?: string;
}

export interface SchedulerOptions {
  policy?: ExhaustionPolicy;
  /** Sequences decoding at once (default: the model's step capacity). */
  maxRunning?: number;
  /** Share the KV blocks of common prompt prefixes between sequences (default true). */
  prefixSharing?: boolean;
  onToken?: (requestIndex: number, branch: number, id: number) => void;
  /** Checked between steps: true ends every sequence with stop_reason "aborted", keeping what it produced. */
  shouldStop?: () => boolean;
}

interface Branch {
  request: number;
  branch: number;
  sampler: Sampler;
  seqId: number | undefined;
  /** Ids to (re)compute before sampling: the prompt, plus generated ids after a preemption. */
  pendingIds: number[];
  /** Ids of pendingIds already in the cache. */
  computed: number;
  outputIds: number[];
  logits: Float32Array[];
  admittedAt: number;
  done: StopReason | undefined;
  /** Forks waiting to be created from this branch once its prompt is prefilled. */
  forksPending: number;
}

export async function runScheduler(engine: Engine, requests: SequenceRequest[], options: SchedulerOptions = {}) {
  const policy = options.policy ?? "refuse";
  const model = engine.model;
  const maxRunning = Math.min(options.maxRunning ?? model.step.capacity.maxSeqs, model.step.capacity.maxSeqs);
  const contextLength = model.config.contextLength;
  const stats: SchedulerStats = {
    steps: 0, prefillTokens: 0, decodeTokens: 0, prefillMs: 0, decodeMs: 0,
    peakBlocksUsed: 0, slotsUsedAtPeak: 0, slotsAllocatedAtPeak: 0, preemptions: 0, sharedPrefixTokens: 0,
  };
  const prefixSharing = options.prefixSharing ?? true;
  const blockSize = engine.sequences.blockSize;

  requests.forEach((r, i) => {
    if (r.promptIds.length === 0) throw new RequestError(`request ${i}: the prompt is empty (give at least BOS)`);
    if (r.promptIds.length > contextLength) {
      throw new ContextOverflowError(`request ${i}: the prompt has ${r.promptIds.length} tokens, more than the model's context of ${contextLength}`);
    }
    const bad = r.promptIds.find((id) => !Number.isInteger(id) || id < 0 || id >= engine.vocabSize);
    if (bad !== undefined) throw new RequestError(`request ${i}: token id ${bad} is outside the vocabulary of ${engine.vocabSize}`);
    if ((r.parallel ?? 1) > maxRunning) throw new RequestError(`request ${i}: --parallel ${r.parallel} exceeds the ${maxRunning} sequences a step holds`);
  });

  let admissions = 0;
  const waiting: Branch[] = requests.map((r, i) => ({
    request: i, branch: 0, sampler: new Sampler(r), seqId: undefined, pendingIds: [...r.promptIds], computed: 0,
    outputIds: [], logits: [], admittedAt: -1, done: undefined, forksPending: (r.parallel ?? 1) - 1,
  }));
  const running: Branch[] = [];
  const finished: Branch[] = [];

  const finish = (b: Branch, reason: StopReason) => {
    b.done = reason;
    if (b.seqId !== undefined) engine.sequences.free(b.seqId);
    b.seqId = undefined;
    running.splice(running.indexOf(b), 1);
    finished.push(b);
  };

  /** A greedy branch that keeps no logits needs only the argmax id, which the GPU picks. */
  const argmaxOnly = (b: Branch) => b.sampler.isGreedy && !requests[b.request]!.keepLogits && b.forksPending === 0;
  const sample = (b: Branch, result: StepResult) => {
    const request = requests[b.request]!;
    if (request.keepLogits) b.logits.push(result.logits.slice());
    const id = result.argmax ?? b.sampler.sample(result.logits);
    b.outputIds.push(id);
    b.pendingIds.push(id);
    options.onToken?.(b.request, b.branch, id);
    if (request.stopIds?.includes(id)) finish(b, "eos");
    else if (b.outputIds.length >= request.maxTokens) finish(b, "max_tokens");
    else if (b.pendingIds.length >= contextLength) finish(b, "context_full");
  };

  /** Steps submitted chained while the last one ran, oldest first (at most the model's chain depth − 1). */
  const lookahead: { plan: { branch: Branch }[]; pending: PendingStep; submittedAt: number }[] = [];
  let lastResultAt = 0;
  /** Waits for the chained steps and takes their tokens back out of the cache, newest first. */
  const dropLookahead = async () => {
    const dropped = lookahead.splice(0);
    for (const { pending } of dropped) await pending.results().catch(() => undefined);
    for (const { pending } of dropped.reverse()) pending.rollback();
  };
  /**
   * Whether one more step can be chained after this one and the `queued` ones already chained: every running
   * branch decodes greedily in this step (argmax on the GPU), nothing waits to be admitted, and each branch needs
   * that many more tokens, with room for them in its context and in the pool.
   */
  const chainable = (plan: { branch: Branch; ids: number[]; wantsLogits: boolean }[], stepRequests: StepRequest[], queued: number) =>
    queued + 1 < engine.model.chainDepth && waiting.length === 0 && plan.length === running.length &&
    !options.shouldStop?.() &&
    plan.every((p, i) => {
      const b = p.branch;
      const request = requests[b.request]!;
      return p.ids.length === 1 && stepRequests[i]!.logits === "argmax" && b.outputIds.length > 0 &&
        b.outputIds.length + queued + 2 <= request.maxTokens && b.pendingIds.length + queued + 2 <= contextLength;
    }) &&
    engine.canChainStep(plan.map((p) => p.branch.seqId!));

  const start = performance.now();
  let allPrefilled = false;
  while (waiting.length > 0 || running.length > 0) {
    if (options.shouldStop?.()) {
      await dropLookahead();
      for (const b of [...running]) finish(b, "aborted");
      for (const b of waiting.splice(0)) finished.push({ ...b, done: "aborted" });
      break;
    }
    // Admit waiting branches while there is room in the step (a parallel request needs room for its forks).
    const seatsTaken = () => running.reduce((n, b) => n + 1 + b.forksPending, 0);
    while (waiting.length > 0 && seatsTaken() + 1 + waiting[0]!.forksPending <= maxRunning) {
      const b = waiting.shift()!;
      if (requests[b.request]!.maxTokens === 0) {
        finished.push({ ...b, done: "max_tokens" });
        continue;
      }
      b.seqId = engine.sequences.create().id;
      b.computed = 0;
      b.admittedAt = admissions++;
      running.push(b);
    }
    if (running.length === 0) break;

    // Common prefixes: a branch with nothing cached adopts the full blocks it shares with an earlier branch,
    // or waits while that branch is still computing them.
    const waitingForPrefix = new Set<Branch>();
    if (prefixSharing) {
      for (const b of running) {
        if (b.computed > 0) continue;
        const donor = prefixDonor(b, running, blockSize);
        if (!donor) continue;
        if (donor.branch.computed < donor.sharedTokens) {
          waitingForPrefix.add(b);
          continue;
        }
        engine.sequences.adoptPrefix(b.seqId!, donor.branch.seqId!, donor.sharedTokens / blockSize);
        b.computed = donor.sharedTokens;
        stats.sharedPrefixTokens += donor.sharedTokens;
      }
    }

    // Pack the step: decoding branches first (one token each), then prompt chunks within the budget.
    let budget = model.maxStepTokens;
    let logitRows = model.maxLogitRows;
    const plan: { branch: Branch; ids: number[]; wantsLogits: boolean }[] = [];
    const byProgress = [...running].sort((a, b) => Number(a.pendingIds.length - a.computed > 1) - Number(b.pendingIds.length - b.computed > 1));
    for (const b of byProgress) {
      if (waitingForPrefix.has(b)) continue;
      const remaining = b.pendingIds.length - b.computed;
      const count = Math.min(remaining, budget);
      if (count === 0) continue;
      const completes = count === remaining;
      if (completes && logitRows === 0) continue;
      plan.push({ branch: b, ids: b.pendingIds.slice(b.computed, b.computed + count), wantsLogits: completes });
      budget -= count;
      if (completes) logitRows--;
    }

    // A step chained while the last one ran (below) is this step when the plan is the same.
    let pending: PendingStep | undefined;
    let stepStart = performance.now();
    const next = lookahead.shift();
    if (next) {
      const same = next.plan.length === plan.length &&
        next.plan.every((q, i) => q.branch === plan[i]!.branch && plan[i]!.ids.length === 1 && plan[i]!.wantsLogits);
      if (!same) throw new Error("internal: the chained step does not match the scheduler's plan");
      ({ pending, submittedAt: stepStart } = next);
    }

    // Make sure the pool can hold the step, or apply the policy.
    const needed = () => plan.reduce((n, p) => n + engine.sequences.blocksNeeded(p.branch.seqId!, p.ids.length), 0);
    while (!pending && needed() > engine.sequences.allocator.freeBlocks) {
      const free = engine.sequences.allocator.freeBlocks;
      const victims = policy === "preempt" && running.length > 1 ? [...running].sort((a, b) => b.admittedAt - a.admittedAt).slice(0, 1) : [];
      const hint = policy === "preempt"
        ? "preemption cannot help a sequence that alone outgrows the pool: raise --kv-budget or lower --max-tokens"
        : "raise --kv-budget, lower --max-tokens or the number of sequences, or use --kv-policy preempt";
      const message = new KvPoolExhaustedError(needed(), free, engine.sequences.allocator.totalBlocks, hint).message;
      if (victims.length === 1) {
        const victim = victims[0]!;
        engine.sequences.free(victim.seqId!);
        victim.seqId = undefined;
        running.splice(running.indexOf(victim), 1);
        waiting.unshift(victim);
        stats.preemptions++;
        const planned = plan.findIndex((p) => p.branch === victim);
        if (planned >= 0) plan.splice(planned, 1);
      } else {
        // Refuse: end the branches that need new blocks, keep what they produced.
        stats.error = message;
        for (const p of [...plan]) {
          if (engine.sequences.blocksNeeded(p.branch.seqId!, p.ids.length) > 0) {
            finish(p.branch, "kv_exhausted");
            plan.splice(plan.indexOf(p), 1);
          }
        }
      }
    }
    if (plan.length === 0) continue;

    const stepRequests: StepRequest[] = plan.map((p) => ({
      seqId: p.branch.seqId!, ids: p.ids, logits: !p.wantsLogits ? "none" : argmaxOnly(p.branch) ? "argmax" : "last",
    }));
    if (!pending) {
      stepStart = performance.now();
      pending = await engine.submit(stepRequests);
    }
    // Greedy decoding that surely goes on: the next steps are queued now, each reading its ids on the GPU from the
    // argmax of the step before it, so the GPU does not wait for ids to come back and be sent again.
    while (chainable(plan, stepRequests, lookahead.length)) {
      lookahead.push({
        plan: plan.map((p) => ({ branch: p.branch })),
        pending: await engine.submit(plan.map((p) => ({ seqId: p.branch.seqId!, ids: [0], logits: "argmax" })), { chained: true }),
        submittedAt: performance.now(),
      });
    }
    let results: StepResult[];
    try {
      results = await pending.results();
    } catch (error) {
      await dropLookahead();
      throw error;
    }
    const stepMs = performance.now() - Math.max(stepStart, lastResultAt);
    lastResultAt = performance.now();
    stats.steps++;
    const decodeOnly = plan.every((p) => p.ids.length === 1 && p.branch.outputIds.length > 0);
    for (const p of plan) {
      if (p.branch.outputIds.length === 0) stats.prefillTokens += p.ids.length;
      else stats.decodeTokens += p.ids.length;
    }
    if (decodeOnly) stats.decodeMs += stepMs;

    // KV usage at its peak (before finished sequences free their blocks).
    const used = engine.sequences.allocator.usedBlocks;
    if (used > stats.peakBlocksUsed) {
      const { usedSlots, allocatedSlots } = engine.sequences.utilization();
      Object.assign(stats, { peakBlocksUsed: used, slotsUsedAtPeak: usedSlots, slotsAllocatedAtPeak: allocatedSlots });
    }

    const lastLogits = new Map<Branch, StepResult>();
    plan.forEach((p, i) => {
      p.branch.computed += p.ids.length;
      if (p.wantsLogits) lastLogits.set(p.branch, results[i]!);
    });
    for (const [b, logits] of lastLogits) {
      // A prompt just finished: fork the parallel branches first, so they share its blocks.
      while (b.forksPending > 0) {
        b.forksPending--;
        const request = requests[b.request]!;
        const branchIndex = (request.parallel ?? 1) - 1 - b.forksPending;
        const child: Branch = {
          ...b, branch: branchIndex, sampler: new Sampler({ ...request, seed: (request.seed ?? 0) + branchIndex }),
          seqId: engine.sequences.fork(b.seqId!).id, pendingIds: [...b.pendingIds], outputIds: [...b.outputIds],
          logits: [...b.logits], admittedAt: admissions++, forksPending: 0,
        };
        running.push(child);
        sample(child, logits);
      }
      sample(b, logits);
    }
    // The chained steps hold tokens for every branch of this step: if one of them has finished, or the run is
    // stopped, their tokens are taken back out of the cache (the branches that go on compute them again).
    if (lookahead.length > 0 && (plan.some((p) => p.branch.done !== undefined) || waiting.length > 0 || options.shouldStop?.())) {
      await dropLookahead();
    }
    if (!allPrefilled && waiting.length === 0 && running.every((b) => b.outputIds.length > 0)) {
      allPrefilled = true;
      stats.prefillMs = performance.now() - start;
    }
  }
  await dropLookahead(); // (none is left by the loop; kept so that no step is ever left unread)
  if (!allPrefilled) stats.prefillMs = performance.now() - start;

  const outputs: SequenceOutput[][] = requests.map(() => []);
  for (const b of finished.sort((a, b) => a.branch - b.branch)) {
    outputs[b.request]![b.branch] = { outputIds: b.outputIds, stopReason: b.done!, logits: requests[b.request]!.keepLogits ? b.logits : undefined };
  }
  return { outputs, stats };
}

/** Length of the common start of two id lists. */
export function commonPrefixLength(a: readonly number[], b: readonly number[]): number {
  const limit = Math.min(a.length, b.length);
  let n = 0;
  while (n < limit && a[n] === b[n]) n++;
  return n;
}

/**
 * The branch admitted before `b` with which it shares the most full KV blocks of its ids, and how many
 * tokens that is (a multiple of the block size). At least the last id stays b's own to compute: its logits
 * are what b samples from. Only earlier branches are donors, so waiting never forms a cycle.
 */
function prefixDonor(b: Branch, running: Branch[], blockSize: number): { branch: Branch; sharedTokens: number } | undefined {
  let best: { branch: Branch; sharedTokens: number } | undefined;
  for (const other of running) {
    if (other === b || other.admittedAt > b.admittedAt || other.seqId === undefined) continue;
    const common = Math.min(commonPrefixLength(b.pendingIds, other.pendingIds), b.pendingIds.length - 1);
    const sharedTokens = Math.floor(common / blockSize) * blockSize;
    if (sharedTokens > 0 && (!best || sharedTokens > best.sharedTokens)) best = { branch: other, sharedTokens };
  }
  return best;
}
