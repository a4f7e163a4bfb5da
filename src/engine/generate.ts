// Generation and scoring on top of the engine: prefill the prompt, then sample one token per step until
// EOS or the token limit. Timings are wall-clock around the GPU work, logits read back included.

import { Engine } from "./engine.js";
import { Sampler, argmax, logProbability, type SamplingOptions } from "./sampler.js";

export interface GenerateOptions extends SamplingOptions {
  maxTokens: number;
  /** Token ids that end generation (EOS, EOT…); generation also stops at maxTokens. */
  stopIds?: number[];
  /** Keep every step's logits (prompt's last position, then each generated token's). */
  keepLogits?: boolean;
  onToken?: (id: number) => void;
}

export interface GenerateTimings {
  prefill_ms: number;
  decode_ms: number;
  prefill_tok_s: number;
  decode_tok_s: number;
}

export interface GenerateResult {
  outputIds: number[];
  stopReason: "eos" | "max_tokens";
  timings: GenerateTimings;
  /** [steps × vocab] when keepLogits: row i is the distribution that produced outputIds[i]. */
  logits?: Float32Array[];
}

export async function generate(engine: Engine, promptIds: number[], options: GenerateOptions): Promise<GenerateResult> {
  if (promptIds.length === 0) throw new Error("the prompt is empty: give at least one token (e.g. BOS)");
  if (!Number.isInteger(options.maxTokens) || options.maxTokens < 0) throw new Error(`max tokens must be an integer ≥ 0, got ${options.maxTokens}`);
  const room = engine.model.config.contextLength - promptIds.length;
  if (room < 0) {
    throw new Error(`the prompt has ${promptIds.length} tokens, more than the model's context of ${engine.model.config.contextLength}`);
  }
  const maxTokens = Math.min(options.maxTokens, room);
  const sampler = new Sampler(options);
  const stopIds = new Set(options.stopIds ?? []);
  const sequence = engine.sequences.create();
  const kept: Float32Array[] = [];
  const outputIds: number[] = [];
  let stopReason: GenerateResult["stopReason"] = "max_tokens";
  try {
    const prefillStart = performance.now();
    let logits = await engine.prefill(sequence.id, promptIds, "last");
    const prefillMs = performance.now() - prefillStart;

    const decodeStart = performance.now();
    for (let i = 0; i < maxTokens; i++) {
      if (options.keepLogits) kept.push(logits.slice());
      const id = sampler.sample(logits);
      outputIds.push(id);
      options.onToken?.(id);
      if (stopIds.has(id)) {
        stopReason = "eos";
        break;
      }
      if (i + 1 === maxTokens) break;
      const [result] = await engine.step([{ seqId: sequence.id, ids: [id], logits: "last" }]);
      logits = result!.logits;
    }
    const decodeMs = performance.now() - decodeStart;
    const decodedSteps = Math.max(0, outputIds.length - 1);
    return {
      outputIds,
      stopReason,
      timings: {
        prefill_ms: prefillMs,
        decode_ms: decodeMs,
        prefill_tok_s: promptIds.length / (prefillMs / 1000),
        decode_tok_s: decodedSteps > 0 ? decodedSteps / (decodeMs / 1000) : 0,
      },
      logits: options.keepLogits ? kept : undefined,
    };
  } finally {
    engine.sequences.free(sequence.id);
  }
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
  if (ids.length < 2) throw new Error("scoring needs at least two ids (a context and a next token)");
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
