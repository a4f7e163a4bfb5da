// Soak: 200 load/unload cycles and 1,000 generations in one page. After every unload webkv's live GPU bytes
// must be back at the baseline (0: nothing loaded); across the generations, the renderer's and the GPU
// process's resident memory and the JS heap (after a forced GC) are sampled, and the last 500 generations
// must stay flat within 5%. Writes bench/results/soak.json and .md (with an SVG of the samples).
//   npx tsx bench/soak.ts [--cycles 200] [--generations 1000]

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { findChromiumProcesses, sampleProcessMemory } from "../src/harness/process-memory.js";
import type { BrowserSession } from "../src/harness/session.js";
import { machineNote, markdownTable, modelsDir, resultsDir, withSession, writeResults } from "./lib.js";

const { values } = parseArgs({ options: { cycles: { type: "string" }, generations: { type: "string" } } });
const cycles = Number(values.cycles ?? 200);
const generations = Number(values.generations ?? 1000);
const model = join(modelsDir, "stories260K.gguf");

interface Sample {
  step: number;
  webkvLiveBytes: number;
  rendererRss: number;
  gpuRss: number;
  jsHeap: number;
}

async function sample(session: BrowserSession, step: number): Promise<Sample> {
  const cdp = await session.page.context().newCDPSession(session.page);
  await cdp.send("HeapProfiler.collectGarbage");
  const heap = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number };
  await cdp.detach();
  const dir = session.chromium.userDataDir;
  const rss = async (type: string) => {
    let total = 0;
    for (const pid of await findChromiumProcesses(dir, type)) total += (await sampleProcessMemory(pid))?.rssBytes ?? 0;
    return total;
  };
  const live = await session.call<{ bytes: number }>("liveBytes");
  return { step, webkvLiveBytes: live.bytes, rendererRss: await rss("renderer"), gpuRss: await rss("gpu-process"), jsHeap: heap.usedSize };
}

const started = Date.now();
const result = await withSession(async (session) => {
  const url = session.publishFile(model);
  // Phase 1: load/unload cycles; live bytes must return to 0 after each unload.
  const cycleSamples: Sample[] = [];
  const notAtBaseline: number[] = [];
  let adapter: { vendor: string; architecture: string; description: string } | undefined;
  for (let c = 0; c < cycles; c++) {
    const loaded = await session.call<{ modelId: number; adapter: typeof adapter }>("load", { url });
    adapter ??= loaded.adapter;
    await session.call("generate", { modelId: loaded.modelId, promptIds: [1], maxTokens: 4 });
    await session.call("unload", { modelId: loaded.modelId });
    const live = await session.call<{ bytes: number; models: number }>("liveBytes");
    if (live.bytes !== 0 || live.models !== 0) notAtBaseline.push(c);
    if (c % 20 === 0 || c === cycles - 1) cycleSamples.push(await sample(session, c));
  }
  // Phase 2: generations on one loaded model.
  const { modelId } = await session.call<{ modelId: number }>("load", { url });
  const generationSamples: Sample[] = [];
  for (let g = 0; g < generations; g++) {
    await session.call("generate", { modelId, promptIds: [1, 3 + (g % 400)], maxTokens: 16, temperature: 0.8, seed: g });
    if (g % 50 === 0 || g === generations - 1) generationSamples.push(await sample(session, g));
  }
  await session.call("unload", { modelId });
  return { cycleSamples, notAtBaseline, generationSamples, adapter: adapter! };
});

/** Growth over the last half of the generations: (last − first) / first of the samples in it, and the spread. */
function drift(samples: Sample[], key: keyof Sample) {
  const tail = samples.filter((s) => s.step >= generations - 500);
  const first = tail[0]![key];
  const last = tail.at(-1)![key];
  const max = Math.max(...tail.map((s) => s[key]));
  const min = Math.min(...tail.map((s) => s[key]));
  return { first, last, growth: (last - first) / first, spread: (max - min) / first };
}
const drifts = { renderer_rss: drift(result.generationSamples, "rendererRss"), gpu_rss: drift(result.generationSamples, "gpuRss"), js_heap: drift(result.generationSamples, "jsHeap") };
const cycleGrowth = (key: keyof Sample) => {
  const s = result.cycleSamples;
  const perCycle = (from: Sample, to: Sample) => (to[key] - from[key]) / Math.max(1, to.step - from.step);
  const secondHalf = s.find((x) => x.step >= cycles / 2) ?? s[0]!;
  return { first: s[0]![key], last: s.at(-1)![key], per_cycle: perCycle(s[0]!, s.at(-1)!), per_cycle_second_half: perCycle(secondHalf, s.at(-1)!) };
};
const cyclesReport = { renderer_rss: cycleGrowth("rendererRss"), gpu_rss: cycleGrowth("gpuRss"), js_heap: cycleGrowth("jsHeap") };
const flat = Object.values(drifts).every((d) => Math.abs(d.growth) <= 0.05);
const json = {
  cycles, generations, seconds: (Date.now() - started) / 1000,
  live_bytes_not_at_baseline_after_unload: result.notAtBaseline, load_unload: cyclesReport, last_500_generations: drifts, flat_within_5_percent: flat,
  samples: { cycles: result.cycleSamples, generations: result.generationSamples }, adapter: result.adapter,
};

const mib = (bytes: number) => (bytes / 2 ** 20).toFixed(1);
const pct = (x: number) => `${(100 * x).toFixed(2)}%`;
const svg = chart(result.generationSamples);
writeFileSync(join(resultsDir, "soak.svg"), svg);
const markdown = [
  "# Soak: load/unload cycles and generations in one page",
  "",
  `stories260K, ${cycles} load/generate/unload cycles, then ${generations} generations of 16 tokens (temperature 0.8) on one load; ${json.seconds.toFixed(0)} s.`,
  "",
  `After every unload webkv's live GPU bytes were back at 0: ${result.notAtBaseline.length === 0 ? "yes, all " + cycles : `no — cycles ${result.notAtBaseline.join(", ")}`}.`,
  "",
  "Load/unload cycles (MiB, first sample → last sample, per cycle):",
  "",
  markdownTable(["", "first", "last", "per cycle (KiB)", "per cycle, second half (KiB)"],
    Object.entries(cyclesReport).map(([k, v]) => [k, mib(v.first), mib(v.last), (v.per_cycle / 1024).toFixed(1), (v.per_cycle_second_half / 1024).toFixed(1)])),
  "",
  "Samples over the cycles (MiB): " + result.cycleSamples.map((x) => `${x.step}: renderer ${mib(x.rendererRss)} · GPU ${mib(x.gpuRss)} · heap ${mib(x.jsHeap)}`).join("; "),
  "",
  `Last 500 generations (flat within 5%: ${flat ? "yes" : "no"}):`,
  "",
  markdownTable(["", "first (MiB)", "last (MiB)", "growth", "spread"], Object.entries(drifts).map(([k, v]) => [k, mib(v.first), mib(v.last), pct(v.growth), pct(v.spread)])),
  "",
  "![memory over the generations](soak.svg)",
  "",
  machineNote(result.adapter),
].join("\n");
writeResults("soak", json, markdown);
console.log(markdown);

function chart(samples: Sample[]): string {
  const width = 640, height = 260, pad = 40;
  const series: [keyof Sample, string][] = [["rendererRss", "#1f77b4"], ["gpuRss", "#d62728"], ["jsHeap", "#2ca02c"]];
  const maxY = Math.max(...samples.flatMap((s) => series.map(([k]) => s[k])));
  const maxX = Math.max(...samples.map((s) => s.step), 1);
  const x = (step: number) => pad + ((width - 2 * pad) * step) / maxX;
  const y = (v: number) => height - pad - ((height - 2 * pad) * v) / maxY;
  const lines = series.map(([key, color]) => `<polyline fill="none" stroke="${color}" stroke-width="2" points="${samples.map((s) => `${x(s.step).toFixed(1)},${y(s[key]).toFixed(1)}`).join(" ")}"/>` +
    `<text x="${width - pad - 150}" y="${20 + 14 * series.findIndex(([k]) => k === key)}" fill="${color}" font-size="12">${key} (max ${mib(Math.max(...samples.map((s) => s[key])))} MiB)</text>`);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif">` +
    `<line x1="${pad}" y1="${height - pad}" x2="${width - pad}" y2="${height - pad}" stroke="#444"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${height - pad}" stroke="#444"/>` +
    `<text x="${width / 2 - 40}" y="${height - 8}" font-size="12">generation</text><text x="4" y="${pad - 8}" font-size="12">bytes (0 … ${mib(maxY)} MiB)</text>` +
    lines.join("") + "</svg>";
}
