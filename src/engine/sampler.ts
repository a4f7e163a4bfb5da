// Next-token sampling from a logits row: greedy, or top-k → top-p on the model's distribution, then
// temperature, then a seeded draw (the order llama.cpp's default chain uses). Same seed, same tokens.

import { Random } from "../gguf/random.js";

export interface SamplingOptions {
  /** 0 = greedy (argmax). */
  temperature?: number;
  /** Keep the k most likely tokens; 0 = off. */
  topK?: number;
  /** Keep the smallest set whose probability reaches p; 1 = off. */
  topP?: number;
  seed?: number;
}

export class SamplingError extends Error {
  readonly code = "bad_sampling_option";
}

export function validateSampling(options: SamplingOptions): Required<SamplingOptions> {
  const resolved = { temperature: options.temperature ?? 0, topK: options.topK ?? 0, topP: options.topP ?? 1, seed: options.seed ?? 0 };
  if (!(resolved.temperature >= 0) || !Number.isFinite(resolved.temperature)) {
    throw new SamplingError(`temperature must be a number ≥ 0, got ${options.temperature}`);
  }
  if (!Number.isInteger(resolved.topK) || resolved.topK < 0) throw new SamplingError(`top-k must be an integer ≥ 0, got ${options.topK}`);
  if (!(resolved.topP > 0 && resolved.topP <= 1)) throw new SamplingError(`top-p must be in (0, 1], got ${options.topP}`);
  if (!Number.isInteger(resolved.seed)) throw new SamplingError(`seed must be an integer, got ${options.seed}`);
  return resolved;
}

/** Index of the largest value (the first one on ties). */
export function argmax(values: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i]! > values[best]!) best = i;
  return best;
}

export class Sampler {
  private readonly options: Required<SamplingOptions>;
  private readonly random: Random;

  constructor(options: SamplingOptions = {}) {
    this.options = validateSampling(options);
    this.random = new Random(this.options.seed);
  }

  /** Greedy: the next id is argmax of the logits, which the GPU can pick without reading them back. */
  get isGreedy(): boolean {
    return this.options.temperature === 0;
  }

  sample(logits: Float32Array): number {
    const { temperature, topK, topP } = this.options;
    if (temperature === 0) return argmax(logits);

    // Candidates sorted by logit, cut to top-k.
    let candidates = Array.from(logits.keys()).sort((a, b) => logits[b]! - logits[a]! || a - b);
    if (topK > 0) candidates = candidates.slice(0, topK);

    // Top-p on the untempered distribution of the candidates.
    if (topP < 1) {
      const probs = softmax(candidates.map((i) => logits[i]!), 1);
      let cumulative = 0;
      let keep = candidates.length;
      for (let i = 0; i < probs.length; i++) {
        cumulative += probs[i]!;
        if (cumulative >= topP) {
          keep = i + 1;
          break;
        }
      }
      candidates = candidates.slice(0, keep);
    }

    const probs = softmax(candidates.map((i) => logits[i]!), temperature);
    let r = this.random.nextFloat();
    for (let i = 0; i < candidates.length; i++) {
      r -= probs[i]!;
      if (r < 0) return candidates[i]!;
    }
    return candidates[candidates.length - 1]!;
  }
}

/** Softmax of values / temperature, in float64. */
export function softmax(values: number[], temperature: number): number[] {
  let max = -Infinity;
  for (const v of values) max = Math.max(max, v);
  const exps = values.map((v) => Math.exp((v - max) / temperature));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

/** log softmax(row)[id], in float64. */
export function logProbability(row: ArrayLike<number>, id: number): number {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  return row[id]! - max - Math.log(sum);
}
