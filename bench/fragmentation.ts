// KV fragmentation: 64 sequences with lengths uniform in 1…max_context, all alive at once in the paged
// cache, prefilled for real on stories260K in Chromium; utilization = token slots used / slots allocated,
// per block size, beside what a contiguous cache reserving max_context per sequence would use.
//   npx tsx bench/fragmentation.ts [--sequences 64] [--max-context 2048]
// Writes bench/results/fragmentation.json and .md.

import { parseArgs } from "node:util";
import { Random } from "../src/gguf/random.js";
import { machineNote, markdownTable, modelsDir, withSession, writeResults } from "./lib.js";

const { values } = parseArgs({ options: { sequences: { type: "string" }, "max-context": { type: "string" }, seed: { type: "string" } } });
const sequences = Number(values.sequences ?? 64);
const maxContext = Number(values["max-context"] ?? 2048);
const random = new Random(Number(values.seed ?? 2026));
const lengths = Array.from({ length: sequences }, () => 1 + random.nextInt(maxContext));
const tokens = lengths.reduce((a, b) => a + b, 0);

interface Occupancy {
  tokens: number;
  slots_allocated: number;
  blocks_used: number;
  blocks_total: number;
  block_size: number;
  bytes_per_block_all_layers: number;
  pool_bytes: number;
  utilization: number;
  prefill_ms: number;
}

const results = await withSession(async (session) => {
  const rows: (Occupancy & { paged_bytes_used: number })[] = [];
  let adapter = { vendor: "", architecture: "", description: "" };
  for (const blockSize of [8, 16, 32, 64]) {
    const blocks = Math.ceil(tokens / blockSize) + sequences; // enough for every sequence's last partial block
    const loaded = await session.call<{ modelId: number; adapter: typeof adapter }>("load", {
      url: session.publishFile(`${modelsDir}/stories260K.gguf`),
      options: { kvBlockSize: blockSize, kvBlocks: blocks, maxStepTokens: 256 },
    });
    adapter = loaded.adapter;
    const occupancy = await session.call<Occupancy>("kvOccupancy", { modelId: loaded.modelId, lengths });
    rows.push({ ...occupancy, paged_bytes_used: occupancy.blocks_used * occupancy.bytes_per_block_all_layers });
    await session.call("unload", { modelId: loaded.modelId });
    console.error(`block ${blockSize}: utilization ${(occupancy.utilization * 100).toFixed(2)}% (${occupancy.prefill_ms.toFixed(0)} ms)`);
  }
  return { rows, adapter };
});

const bytesPerToken = results.rows[0]!.bytes_per_block_all_layers / results.rows[0]!.block_size;
const contiguousSlots = sequences * maxContext;
const contiguous = { slots_allocated: contiguousSlots, bytes: contiguousSlots * bytesPerToken, utilization: tokens / contiguousSlots };
const json = {
  model: "stories260K.gguf",
  sequences,
  max_context: maxContext,
  lengths,
  tokens,
  paged: results.rows,
  contiguous_max_length: contiguous,
  adapter: results.adapter,
};
const markdown = [
  `# KV fragmentation: ${sequences} sequences, lengths uniform in 1…${maxContext} (${tokens} tokens)`,
  "",
  "Prefilled for real on stories260K in Chromium; all sequences alive at once. Utilization = token slots used / slots allocated.",
  "",
  markdownTable(
    ["cache", "block size", "blocks used", "slots allocated", "KV bytes used", "utilization"],
    [
      ...results.rows.map((r) => ["paged", r.block_size, r.blocks_used, r.slots_allocated, r.paged_bytes_used, `${(r.utilization * 100).toFixed(2)}%`]),
      ["contiguous, max_context per sequence", "—", "—", contiguous.slots_allocated, contiguous.bytes, `${(contiguous.utilization * 100).toFixed(2)}%`],
    ],
  ),
  "",
  machineNote(results.adapter),
].join("\n");
writeResults("fragmentation", json, markdown);
