// Malformed GGUF files inside the page: the same cases as the Node tests (tests/helpers/malformed-cases.ts)
// end in the same error codes when the page parses them, and when the page loads them from a URL the way a
// user's model is loaded. Afterwards the page is still alive and loads and runs a valid model.

import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { WebkvError } from "../../src/app/wire.js";
import { useBrowserSession } from "../helpers/browser.js";
import { modelPath } from "../helpers/env.js";
import { malformedCases } from "../helpers/malformed-cases.js";

const session = useBrowserSession();
const valid = new Uint8Array(await readFile(modelPath("stories260K.gguf")));
const cases = malformedCases(valid);
const tempDir = await mkdtemp(join(tmpdir(), "webkv-malformed-"));
afterAll(() => rm(tempDir, { recursive: true, force: true }));

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return "no error";
  } catch (error) {
    expect(error).toBeInstanceOf(WebkvError);
    return (error as WebkvError).code;
  }
}

describe("malformed GGUF in the page", () => {
  it(`parses all ${cases.length} cases to their specific error codes`, async () => {
    const mismatches: string[] = [];
    for (const c of cases) {
      const code = await codeOf(session().call("parseGguf", { bytes: c.bytes }));
      if (code !== c.expectedCode) mismatches.push(`${c.name}: got ${code}, expected ${c.expectedCode}`);
    }
    expect(mismatches).toEqual([]);
  });

  it("loading malformed files from a URL fails with the same codes, and the page survives", async () => {
    const picked = cases.filter((_, i) => i % 6 === 0);
    expect(picked.length).toBeGreaterThan(10);
    for (const [i, c] of picked.entries()) {
      const path = join(tempDir, `case-${i}.gguf`);
      await writeFile(path, c.bytes);
      const code = await codeOf(session().call("load", { url: session().publishFile(path) }));
      expect(`${c.name}: ${code}`).toBe(`${c.name}: ${c.expectedCode}`);
    }
    const loaded = await session().call<{ modelId: number }>("load", { url: session().publishFile(modelPath("stories260K.gguf")) });
    const reply = await session().call<{ output_ids: number[] }>("generate", { modelId: loaded.modelId, promptIds: [1], maxTokens: 4 });
    expect(reply.output_ids).toEqual([403, 407, 261, 378]);
    await session().call("unload", { modelId: loaded.modelId });
  });

  it("a model whose tensor shapes disagree with its metadata is refused by name", async () => {
    // Same file, but claim 6 layers instead of 5: blk.5.* tensors are then missing.
    const bytes = valid.slice();
    const key = new TextEncoder().encode("llama.block_count");
    let at = -1;
    for (let i = 0; i < bytes.length - key.length && at < 0; i++) {
      if (key.every((b, j) => bytes[i + j] === b)) at = i + key.length;
    }
    new DataView(bytes.buffer).setUint32(at + 4, 6, true); // after the u32 value type
    const path = join(tempDir, "six-layers.gguf");
    await writeFile(path, bytes);
    await expect(session().call("load", { url: session().publishFile(path) })).rejects.toThrow(/blk\.5\.attn_norm\.weight.*missing/);
  });
});
