// Comparing two sets of teacher-forced logits, and making token sequences to compare them on.

import { Random } from "../../src/gguf/random.js";
import { argmax, type ReferenceLlama } from "./llama-cpu.js";

export interface LogitsComparison {
  positions: number;
  /** Positions where both sides pick the same top-1 token. */
  top1Matches: number;
  top1Agreement: number; // top1Matches / positions
  /** Largest |a − b| over every logit of every position. */
  maxAbsDiff: number;
}

/** a[s][p], b[s][p]: logits of sequence s after position p. */
export function compareLogits(a: Float32Array[][], b: Float32Array[][]): LogitsComparison {
  let positions = 0;
  let top1Matches = 0;
  let maxAbsDiff = 0;
  if (a.length !== b.length) throw new Error(`${a.length} sequences against ${b.length}`);
  a.forEach((sequence, s) => {
    const other = b[s]!;
    if (sequence.length !== other.length) throw new Error(`sequence ${s}: ${sequence.length} positions against ${other.length}`);
    sequence.forEach((logits, p) => {
      const otherLogits = other[p]!;
      if (logits.length !== otherLogits.length) throw new Error(`sequence ${s} position ${p}: vocabularies of ${logits.length} and ${otherLogits.length}`);
      for (let i = 0; i < logits.length; i++) {
        const diff = Math.abs(logits[i]! - otherLogits[i]!);
        if (!(diff <= maxAbsDiff)) maxAbsDiff = diff; // NaN propagates
      }
      positions++;
      if (argmax(logits) === argmax(otherLogits)) top1Matches++;
    });
  });
  return { positions, top1Matches, top1Agreement: top1Matches / positions, maxAbsDiff };
}

export function describeComparison(label: string, c: LogitsComparison): string {
  return `${label}: top-1 ${c.top1Matches}/${c.positions} (${(100 * c.top1Agreement).toFixed(2)}%), ` +
    `max |Δlogit| ${c.maxAbsDiff.toExponential(2)}`;
}

/** `length` ids starting with `first`, sampled from the reference model at `temperature` (seeded). */
export function sampleSequence(model: ReferenceLlama, first: number, length: number, temperature: number, seed: number): number[] {
  const random = new Random(seed);
  const session = model.session(length);
  const ids = [first];
  while (ids.length < length) {
    const logits = session.next(ids[ids.length - 1]!);
    let max = -Infinity;
    for (const logit of logits) max = Math.max(max, logit);
    const weights = Array.from(logits, (logit) => Math.exp((logit - max) / temperature));
    let remaining = random.nextFloat() * weights.reduce((sum, w) => sum + w, 0);
    let id = 0;
    while (id < weights.length - 1 && remaining >= weights[id]!) remaining -= weights[id++]!;
    ids.push(id);
  }
  return ids;
}

/** `first`, then length − 1 ids drawn uniformly from [from, vocab) (seeded). */
export function randomSequence(first: number, length: number, from: number, vocab: number, seed: number): number[] {
  const random = new Random(seed);
  return [first, ...Array.from({ length: length - 1 }, () => from + random.nextInt(vocab - from))];
}
