// The GGUF fuzzer in CI: a fixed-seed run of mutated models (header bytes, metadata values, tensor infos,
// tensor data, cuts) in the page, each ending as a named error or an output — never an unnamed error, a hang
// or a crash. bench/fuzz.ts runs the same generator at length (≥ 10,000 cases).

import { describe, expect, it } from "vitest";
import { FUZZ_FAMILIES, fuzzBases, fuzzCases, runFuzzCase, type FuzzOutcome } from "../helpers/fuzz.js";
import { useBrowserSession } from "../helpers/browser.js";

const session = useBrowserSession();
const CASES = 120;

describe("fuzzing in the page", () => {
  it(`${CASES} mutated models: named errors or outputs only`, { timeout: 600_000 }, async () => {
    const counts: Record<FuzzOutcome, number> = { named_error: 0, output: 0, unnamed_error: 0, hang: 0, crash: 0 };
    const bad: string[] = [];
    const families = new Set<string>();
    for (const testCase of fuzzCases(fuzzBases(), CASES, 20261130)) {
      const result = await runFuzzCase(session(), testCase, 30_000);
      counts[result.outcome]++;
      families.add(testCase.family);
      if (result.outcome !== "named_error" && result.outcome !== "output") bad.push(`${result.outcome} · ${testCase.family} · ${testCase.base} · ${testCase.name}: ${result.detail}`);
    }
    console.log(`fuzz: ${JSON.stringify(counts)}`);
    expect(bad).toEqual([]);
    expect([...families].sort()).toEqual([...FUZZ_FAMILIES].sort());
    expect(counts.named_error).toBeGreaterThan(CASES / 3);
    expect(counts.output).toBeGreaterThan(0);
  });
});
