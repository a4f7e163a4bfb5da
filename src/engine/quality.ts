// Comparing next-token distributions: how far a run (e.g. with a quantized KV cache) moves the model's
// predictions from a reference run (f32 KV). Pure functions over logits rows, in float64.

/** log softmax of one logits row. */
export function logSoftmax(row: ArrayLike<number>): Float64Array {
  let max = -Infinity;
  for (let i = 0; i < row.length; i++) max = Math.max(max, row[i]!);
  let sum = 0;
  for (let i = 0; i < row.length; i++) sum += Math.exp(row[i]! - max);
  const logSum = max + Math.log(sum);
  const out = new Float64Array(row.length);
  for (let i = 0; i < row.length; i++) out[i] = row[i]! - logSum;
  return out;
}

/** KL(p ‖ q) in nats, from the two distributions' log-probabilities. */
export function klDivergence(logP: Float64Array, logQ: Float64Array): number {
  let kl = 0;
  for (let i = 0; i < logP.length; i++) {
    const p = Math.exp(logP[i]!);
    if (p > 0) kl += p * (logP[i]! - logQ[i]!);
  }
  return Math.max(0, kl);
}

function argmax(row: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i]! > row[best]!) best = i;
  return best;
}

export interface DistributionComparison {
  positions: number;
  top1Agreement: number;
  klMean: number;
  klP99: number;
  klMax: number;
  /** Perplexity of the actual next ids under each run, and the difference (other − reference). */
  perplexityReference: number;
  perplexity: number;
  perplexityDelta: number;
}

/**
 * Compares teacher-forced logits of the same sequences: rows[s][p] predicts sequences[s][p + 1]
 * (the last row of each sequence predicts nothing and only counts for top-1 and KL).
 */
export function compareDistributions(sequences: number[][], reference: ArrayLike<number>[][], other: ArrayLike<number>[][]): DistributionComparison {
  const kls: number[] = [];
  let agree = 0;
  let nllReference = 0;
  let nllOther = 0;
  let predicted = 0;
  sequences.forEach((ids, s) => {
    ids.forEach((_, p) => {
      const ref = reference[s]![p]!;
      const oth = other[s]![p]!;
      const logP = logSoftmax(ref);
      const logQ = logSoftmax(oth);
      kls.push(klDivergence(logP, logQ));
      if (argmax(ref) === argmax(oth)) agree++;
      if (p + 1 < ids.length) {
        nllReference -= logP[ids[p + 1]!]!;
        nllOther -= logQ[ids[p + 1]!]!;
        predicted++;
      }
    });
  });
  const sorted = [...kls].sort((a, b) => a - b);
  const perplexityReference = Math.exp(nllReference / predicted);
  const perplexity = Math.exp(nllOther / predicted);
  return {
    positions: kls.length,
    top1Agreement: agree / kls.length,
    klMean: kls.reduce((a, b) => a + b, 0) / kls.length,
    klP99: sorted[Math.min(sorted.length - 1, Math.floor(0.99 * sorted.length))]!,
    klMax: sorted[sorted.length - 1]!,
    perplexityReference,
    perplexity,
    perplexityDelta: perplexity - perplexityReference,
  };
}

/** Greedy continuations compared position by position: the share that match, and where the first differs. */
export function sequenceAgreement(reference: number[][], other: number[][]): { tokenAgreement: number; identical: number; firstDivergence: (number | null)[] } {
  let same = 0;
  let total = 0;
  let identical = 0;
  const firstDivergence = reference.map((ref, i) => {
    const oth = other[i]!;
    let first: number | null = null;
    for (let p = 0; p < Math.max(ref.length, oth.length); p++) {
      total++;
      if (ref[p] === oth[p]) same++;
      else if (first === null) first = p;
    }
    if (first === null) identical++;
    return first;
  });
  return { tokenAgreement: same / total, identical, firstDivergence };
}
