// Shared by the bench scripts: a Chromium session with the runtime, and results written as JSON plus a
// readable Markdown table under bench/results/.

import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { BrowserSession } from "../src/harness/session.js";

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
