// Generation and scoring on top of the engine. `generate` runs one request through the continuous-batching
// scheduler (the same path as batches); `score` is one teacher-forced pass. Timings are wall-clock around
// the GPU work, logits read back included.

import { Engine } from "./engine.js";
import { argmax, logProbability } from "./sampler.js";
import { runScheduler, type SchedulerStats, type SequenceRequest, type StopReason } from "./scheduler.js";
import { RequestError } from "./errors.js";

export interface GenerateTimings {
  prefill_ms: number;
  decode_ms: number;
  prefill_tok_s: number;
  decode_tok_s: number;
}

export interface GenerateResult {
  outputIds: number[];
  stopReason: StopReason;
  timings: GenerateTimings;
  /** When keepLogits: row i is the distribution that produced outputIds[i]. */
  logits?: Float32Array[];
}

export function timingsOf(stats: SchedulerStats): GenerateTimings {
  return {
    prefill_ms: stats.prefillMs,
    decode_ms: stats.decodeMs,
    prefill_tok_s: stats.prefillTokens / (stats.prefillMs / 1000),
    decode_tok_s: stats.decodeMs > 0 ? stats.decodeTokens / (stats.decodeMs / 1000) : 0,
  };
}

export async function generate(engine: Engine, request: SequenceRequest & { onToken?: (id: number) => void }): Promise<GenerateResult> {
  const { outputs, stats } = await runScheduler(engine, [request], { onToken: (_r, _b, id) => request.onToken?.(id) });
  const output = outputs[0]![0]!;
  if (output.stopReason === "kv_exhausted") throw new Error(stats.error);
  return { outputIds: output.outputIds, stopReason: output.stopReason, timings: timingsOf(stats), logits: output.logits };
}

export interface ScoreResult {
  /** top1[i]: the most likely id after reading ids[0..i]. */
  top1: number[];
  /** logprob[i]: log-probability of ids[i+1] after ids[0..i]. */
  logprob: number[];
  perplexity: number;
  /** [ids.length × vocab] when asked for. */
  logits?: Float32Array;
  timings: { prefill_ms: number; prefill_tok_s: number };
}

/** One teacher-forced pass over `ids`. */
export async function score(engine: Engine, ids: number[], keepLogits = false): Promise<ScoreResult> {
  if (ids.length < 2) throw new RequestError("scoring needs at least two ids (a context and a next token)");
  const bad = ids.find((id) => !Number.isInteger(id) || id < 0 || id >= engine.vocabSize);
  if (bad !== undefined) throw new RequestError(`token id ${bad} is outside the vocabulary of ${engine.vocabSize}`);
  const sequence = engine.sequences.create();
  try {
    const start = performance.now();
    const logits = await engine.prefill(sequence.id, ids, "all");
    const ms = performance.now() - start;
    const vocab = engine.vocabSize;
    const top1: number[] = [];
    const logprob: number[] = [];
    for (let i = 0; i < ids.length; i++) {
      const row = logits.subarray(i * vocab, (i + 1) * vocab);
      top1.push(argmax(row));
      if (i + 1 < ids.length) logprob.push(logProbability(row, ids[i + 1]!));
    }
    const meanNll = -logprob.reduce((a, b) => a + b, 0) / logprob.length;
    return {
      top1,
      logprob,
      perplexity: Math.exp(meanNll),
      logits: keepLogits ? logits : undefined,
      timings: { prefill_ms: ms, prefill_tok_s: ids.length / (ms / 1000) },
    };
  } finally {
    engine.sequences.free(sequence.id);
  }
}
