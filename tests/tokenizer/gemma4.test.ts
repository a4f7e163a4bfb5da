// The gemma4 tokenizer model (BPE over "▁"-marked text) on a tiny vocabulary: whole newline runs,
// merge ranks, byte fallback, and control tokens only with parseSpecial. The expected pieces come from
// llama.cpp (llama-cpp.test.ts re-checks them live).

import { describe, expect, it } from "vitest";
import { readGgufHeader } from "../../src/gguf/reader.js";
import { bytesSource } from "../../src/gguf/source.js";
import { encodeGgufBytes } from "../../src/gguf/writer.js";
import { createTokenizer, type GgufTokenizer } from "../../src/tokenizer/index.js";
import { TINY_GEMMA4_CASES, tinyGemma4Metadata } from "./fixtures.js";

async function tinyGemma4(): Promise<GgufTokenizer> {
  return createTokenizer(await readGgufHeader(bytesSource(encodeGgufBytes(tinyGemma4Metadata(), []))));
}

describe("gemma4 tokenizer model", () => {
  it("gives llama.cpp's pieces", async () => {
    const tokenizer = await tinyGemma4();
    for (const [text, pieces] of TINY_GEMMA4_CASES) {
      expect(tokenizer.encode(text).map((id) => tokenizer.tokenText(id)), JSON.stringify(text)).toEqual(pieces);
      expect(tokenizer.decode(tokenizer.encode(text)), JSON.stringify(text)).toBe(text);
    }
  });

  it("always adds BOS by default, and parses <|turn> only with parseSpecial", async () => {
    const tokenizer = await tinyGemma4();
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.addBosDefault]).toEqual([2, 1, true]);
    expect(tokenizer.encode("<|turn>a", { parseSpecial: true, addBos: true }).map((id) => tokenizer.tokenText(id))).toEqual([
      "<bos>",
      "<|turn>",
      "a",
    ]);
  });
});
