// The GGUF fuzzer at length: ≥ 10,000 mutated models (header bytes, metadata values, tensor infos, tensor data,
// cuts) loaded in the page from their bytes, and run when they load. Tabulates the outcome per mutation
// family — named errors, outputs, unnamed errors, hangs, crashes (the last three must be 0) — with every
// unnamed error's message. A hang or crash restarts the browser. Writes bench/results/fuzz.json and .md.
//   npx tsx bench/fuzz.ts [--cases 10000] [--seed 1] [--timeout-ms 20000]

import { parseArgs } from "node:util";
import { BrowserSession } from "../src/harness/session.js";
import { FUZZ_FAMILIES, FUZZ_OUTCOMES, fuzzBases, fuzzCases, runFuzzCase, type FuzzOutcome } from "../tests/helpers/fuzz.js";
import { markdownTable, writeResults } from "./lib.js";

const { values } = parseArgs({ options: { cases: { type: "string" }, seed: { type: "string" }, "timeout-ms": { type: "string" } } });
const count = Number(values.cases ?? 10000);
const seed = Number(values.seed ?? 1);
const timeoutMs = Number(values["timeout-ms"] ?? 20000);

const table = Object.fromEntries(FUZZ_FAMILIES.map((f) => [f, Object.fromEntries(FUZZ_OUTCOMES.map((o) => [o, 0]))])) as Record<string, Record<FuzzOutcome, number>>;
const failures: { family: string; base: string; name: string; outcome: FuzzOutcome; detail: string }[] = [];
const codes = new Map<string, number>();
const started = Date.now();
let session = await BrowserSession.start();
let done = 0;
for (const testCase of fuzzCases(fuzzBases(), count, seed)) {
  const result = await runFuzzCase(session, testCase, timeoutMs);
  table[testCase.family]![result.outcome]++;
  if (result.outcome === "named_error") {
    const code = result.detail.split(":")[0]!;
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  if (result.outcome === "unnamed_error" || result.outcome === "hang" || result.outcome === "crash") {
    failures.push({ family: testCase.family, base: testCase.base, name: testCase.name, ...result });
    if (result.outcome !== "unnamed_error") {
      await session.close().catch(() => undefined);
      session = await BrowserSession.start();
    }
  }
  if (++done % 500 === 0) console.error(`${done}/${count} cases, ${failures.length} failures, ${((Date.now() - started) / 1000).toFixed(0)} s`);
}
await session.close();

const totals = Object.fromEntries(FUZZ_OUTCOMES.map((o) => [o, FUZZ_FAMILIES.reduce((n, f) => n + table[f]![o], 0)])) as Record<FuzzOutcome, number>;
const json = { cases: count, seed, timeout_ms: timeoutMs, seconds: (Date.now() - started) / 1000, by_family: table, totals, error_codes: Object.fromEntries(codes), failures };
const markdown = [
  "# GGUF fuzzing in the page",
  "",
  `${count} mutated models (seed ${seed}), loaded from their bytes in headless Chromium and run when they load; ${json.seconds.toFixed(0)} s.`,
  "",
  markdownTable(["family", ...FUZZ_OUTCOMES], [
    ...FUZZ_FAMILIES.map((f) => [f, ...FUZZ_OUTCOMES.map((o) => String(table[f]![o]))]),
    ["**all**", ...FUZZ_OUTCOMES.map((o) => String(totals[o]))],
  ]),
  "",
  "Named error codes: " + [...codes.entries()].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(", "),
  "",
  failures.length === 0 ? "No unnamed error, hang or crash." : "Failures:\n\n" + failures.slice(0, 50).map((f) => `- ${f.outcome} · ${f.family} · ${f.base} · ${f.name}: ${f.detail}`).join("\n"),
].join("\n");
writeResults("fuzz", json, markdown);
console.log(markdown);
if (totals.unnamed_error + totals.hang + totals.crash > 0) process.exitCode = 1;
