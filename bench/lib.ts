// Shared by the bench scripts: a Chromium session with the runtime, and results written as JSON plus a
// readable Markdown table under bench/results/.

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BrowserSession } from "../src/harness/session.js";
import { writeGgufFile } from "../src/gguf/node-writer.js";
import { syntheticLlama, type SyntheticLlamaShape } from "../src/gguf/synthetic.js";
import type { GgmlType } from "../src/gguf/types.js";

export const benchDir = dirname(fileURLToPath(import.meta.url));
export const resultsDir = join(benchDir, "results");
export const modelsDir = process.env.WEBKV_MODELS ?? resolve(benchDir, "..", "..", "shared", "models");

export async function withSession<T>(run: (session: BrowserSession) => Promise<T>): Promise<T> {
  const session = await BrowserSession.start();
  try {
    return await run(session);
  } finally {
    await session.close();
  }
}

export { markdownTable } from "../src/cli/report.js";

/** The median of the values (the mean of the middle two for an even count); NaN for none. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length === 0 ? NaN : sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Writes bench/results/<name>.json and <name>.md; prints the Markdown. */
export function writeResults(name: string, json: unknown, markdown: string): void {
  mkdirSync(resultsDir, { recursive: true });
  writeFileSync(join(resultsDir, `${name}.json`), JSON.stringify(json, null, 2) + "\n");
  writeFileSync(join(resultsDir, `${name}.md`), markdown.trimEnd() + "\n");
  console.log(markdown);
  console.log(`\nwrote ${join("bench/results", `${name}.json`)} and .md`);
}

export function machineNote(adapter: { vendor: string; architecture: string; description: string }): string {
  return `adapter: ${adapter.vendor} ${adapter.architecture} ${adapter.description}`.trim();
}

/** A synthetic Llama shaped like SmolLM2-135M (dim 576, 30 layers, 9/3 heads, FFN 1536, vocab 49152, tied output). */
export const SMOLLM2_135M_SHAPE = { dim: 576, layers: 30, heads: 9, kvHeads: 3, ffn: 1536, vocab: 49152, contextLength: 8192, tiedOutput: true } as const;

/** The byte tokens of synthetic vocabularies (src/gguf/synthetic.ts: <unk>, <s>, </s>, then <0x00>…<0xFF>): random
 *  weights pick them, and their text is not UTF-8, so the wllama peer is asked never to sample them. */
export const SYNTHETIC_BYTE_TOKENS: [number, number] = [3, 259];

/** Writes a synthetic Llama of `shape` (seeded weights of `weightType`) to dir/name.gguf; returns its path. */
export async function writeSynthetic(
  dir: string, name: string, shape: SyntheticLlamaShape, weightType: GgmlType, seed: number, types: { embeddingType?: GgmlType } = {},
): Promise<string> {
  const path = join(dir, `${name}.gguf`);
  const model = syntheticLlama(shape, { seed, weightType, name, ...types });
  await writeGgufFile(path, model.metadata, model.tensors);
  return path;
}

/** A fresh folder under the system temp dir for a bench's model files, removed when the process exits. */
export function scratchDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  process.on("exit", () => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
