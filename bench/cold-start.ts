// Cold start: what a user waits for the first time a page runs a model — a fresh Chromium (new profile: no
// compiled shaders, no compiled WebAssembly in any cache), then load the GGUF, prefill a short prompt and decode a
// few tokens. webkv compiles its WGSL pipelines at load (SwiftShader JITs each one; ~0.2–0.8 s apiece here), wllama
// compiles its WebAssembly. Runs are interleaved — round r runs every peer once per model, each in its own fresh
// browser — for ≥ 3 rounds; medians (min). Ratios > 1: webkv faster.
//   npx tsx bench/cold-start.ts [--rounds 3] [--before <page dir>]
// --before: also run webkv from another build's page (dist/page of an earlier commit, built in a git worktree),
// side by side in the same rounds — the before/after of a change to what load compiles.
// Writes bench/results/cold-start.json and .md.

import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { GgmlType } from "../src/gguf/types.js";
import { BrowserSession } from "../src/harness/session.js";
import { machineNote, markdownTable, median, modelsDir, scratchDir, SMOLLM2_135M_SHAPE, SYNTHETIC_BYTE_TOKENS, writeResults, writeSynthetic } from "./lib.js";
import { promptTexts, webkvPeer, wllamaPeer, type Measurement, type Peer } from "./peer-runners.js";

const { values } = parseArgs({ options: { rounds: { type: "string" }, before: { type: "string" } } });
const rounds = Number(values.rounds ?? 3);
if (!(rounds >= 1)) throw new Error("--rounds must be ≥ 1");
const dir = scratchDir("webkv-cold-");

const PROMPT_TOKENS = 16;
const DECODE = 8;
const models: { name: string; path: () => Promise<string>; byteTokens?: [number, number] }[] = [
  { name: "stories260K F32", path: async () => join(modelsDir, "stories260K.gguf") },
  { name: "stories260K Q8_0", path: async () => join(modelsDir, "stories260K-q8_0.gguf") },
  { name: "SmolLM2-135M-shape Q8_0", path: () => writeSynthetic(dir, "smol-q8_0", SMOLLM2_135M_SHAPE, GgmlType.Q8_0, 5), byteTokens: SYNTHETIC_BYTE_TOKENS },
];

/** A peer that runs in a browser session of its own, started (fresh profile) and closed around every run. */
interface ColdPeer {
  name: string;
  pageDir?: string;
  make(session: BrowserSession): Peer;
}
const peers: ColdPeer[] = [
  { name: "webkv", make: (s) => webkvPeer(s, "webkv", {}) },
  ...(values.before ? [{ name: "webkv before", pageDir: values.before, make: (s: BrowserSession) => webkvPeer(s, "webkv before", {}) }] : []),
  { name: "wllama 1t", make: (s) => wllamaPeer(s, 1) },
];

interface Run extends Partial<Measurement> {
  model: string;
  peer: string;
  round: number;
  /** Wall clock from the load call to the end of the first sampled token (load + prefill), and to the last. */
  first_token_ms?: number;
  total_ms?: number;
  error?: string;
}

const runs: Run[] = [];
let adapter = { vendor: "", architecture: "", description: "" };
for (const m of models) {
  const path = await m.path();
  const prompt = await (async () => {
    const session = await BrowserSession.start({ crossOriginIsolated: true });
    try {
      adapter = await session.call("adapter");
      return (await promptTexts(session, path, [PROMPT_TOKENS])).get(PROMPT_TOKENS)!;
    } finally {
      await session.close();
    }
  })();
  for (let round = 0; round < rounds; round++) {
    for (const p of peers) {
      let session: BrowserSession | undefined;
      try {
        session = await BrowserSession.start({ crossOriginIsolated: true, pageDir: p.pageDir });
        const start = performance.now();
        const measured = await p.make(session).run(path, prompt, PROMPT_TOKENS, DECODE, () => {}, m.byteTokens);
        const total = performance.now() - start;
        const prefillMs = (measured.prompt_tokens / measured.prefill_tok_s) * 1000;
        const run: Run = { model: m.name, peer: p.name, round, ...measured, first_token_ms: measured.load_ms + prefillMs, total_ms: total };
        runs.push(run);
        console.error(JSON.stringify(run));
      } catch (error) {
        runs.push({ model: m.name, peer: p.name, round, error: (error as Error).message });
        console.error(`${m.name} / ${p.name} round ${round}: ${(error as Error).message}`);
      } finally {
        await session?.close();
      }
    }
  }
}

// ---- report ------------------------------------------------------------------------------------------------

const stat = (xs: number[]) => (xs.length ? `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)})` : "—");
const cell = (model: string, peer: string, key: "load_ms" | "first_token_ms") =>
  runs.filter((r) => r.model === model && r.peer === peer && r[key] !== undefined).map((r) => r[key]!);
const rows = models.flatMap((m) => peers.map((p) => ({
  model: m.name, peer: p.name,
  load_ms_median: median(cell(m.name, p.name, "load_ms")), first_token_ms_median: median(cell(m.name, p.name, "first_token_ms")),
  load: stat(cell(m.name, p.name, "load_ms")), first_token: stat(cell(m.name, p.name, "first_token_ms")),
  failed: runs.filter((r) => r.model === m.name && r.peer === p.name && r.error).length,
})));
const ratios = models.flatMap((m) => peers.filter((p) => p.name !== "webkv").map((p) => {
  const ours = rows.find((r) => r.model === m.name && r.peer === "webkv")!;
  const theirs = rows.find((r) => r.model === m.name && r.peer === p.name)!;
  return { model: m.name, peer: p.name, load: theirs.load_ms_median / ours.load_ms_median, first_token: theirs.first_token_ms_median / ours.first_token_ms_median };
}));

const markdown = [
  "# Cold start: fresh browser → load → first token",
  "",
  `Machine: ${cpus().length} × ${cpus()[0]?.model.trim()}; ${machineNote(adapter)}. ${rounds} interleaved rounds, every run in a fresh Chromium with a new profile. ` +
    `Prompt ${PROMPT_TOKENS} tokens (each engine's own count), ${DECODE} decoded, greedy. load: the engine's own load time (webkv: fetch, parse, upload, ` +
    `compile its pipelines; wllama: fetch, WebAssembly, llama.cpp's load); first token: load + prefill. ms, median (min).` +
    (values.before ? ` "webkv before": the page built from ${values.before}.` : ""),
  "",
  markdownTable(["model", "peer", "load ms", "first token ms", "failed"], rows.map((r) => [r.model, r.peer, r.load, r.first_token, String(r.failed)])),
  "",
  "## peer / webkv, ratio of medians (> 1: webkv faster)",
  "",
  markdownTable(["model", "peer", "load", "first token"], ratios.map((r) => [r.model, r.peer, r.load.toFixed(2), r.first_token.toFixed(2)])),
].join("\n");
writeResults("cold-start", { machine: { cpus: cpus().length, cpu: cpus()[0]?.model.trim(), adapter }, rounds, prompt_tokens: PROMPT_TOKENS, decode: DECODE, before: values.before ?? null, runs, rows, ratios }, markdown);
