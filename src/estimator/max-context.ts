// The largest context that fits: memory never shrinks as the context grows (KV, block tables and attention
// scratch are non-decreasing in N; the prefill chunk is min(chunk, N)), so `fits` is true up to some N and
// false after it. Doubling finds a bracket, bisection the boundary: about 2·log2(N) evaluations.

/** Contexts are searched up to 2^32 tokens; a model that fits there is reported as fitting 2^32. */
export const MAX_CONTEXT_SEARCHED = 2 ** 32;

/** Largest n in [1, MAX_CONTEXT_SEARCHED] with fits(n), or 0 when not even one token fits. */
export function largestFitting(fits: (n: number) => boolean): number {
  if (!fits(1)) return 0;
  let good = 1;
  let bad = 2;
  while (bad <= MAX_CONTEXT_SEARCHED && fits(bad)) {
    good = bad;
    bad *= 2;
  }
  if (bad > MAX_CONTEXT_SEARCHED) return good;
  while (bad - good > 1) {
    const middle = Math.floor((good + bad) / 2);
    if (fits(middle)) good = middle;
    else bad = middle;
  }
  return good;
}
