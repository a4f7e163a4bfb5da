// SentencePiece merges of equal score: llama.cpp takes the leftmost pair first. A merges list can only
// rank pairs one after another, which picks by vocabulary order instead; our tokenizer gives equal
// scores one shared rank. Also: overlapping user-defined tokens are cut out longest first.
// The expected pieces come from llama.cpp (llama-cpp.test.ts re-checks them live).

import { describe, expect, it } from "vitest";
import { readGgufHeader } from "../../src/gguf/reader.js";
import { bytesSource } from "../../src/gguf/source.js";
import { encodeGgufBytes } from "../../src/gguf/writer.js";
import { createTokenizer } from "../../src/tokenizer/index.js";
import { TIED_SPM_CASES, tiedSpmMetadata } from "./fixtures.js";

describe("SPM vocabulary with equal scores", () => {
  it("merges the leftmost pair first and cuts out the longest user-defined token first", async () => {
    const header = await readGgufHeader(bytesSource(encodeGgufBytes(tiedSpmMetadata(), [])));
    const tokenizer = createTokenizer(header);
    for (const [text, pieces] of TIED_SPM_CASES) {
      expect(tokenizer.encode(text).map((id) => tokenizer.tokenText(id)), text).toEqual(pieces);
    }
  });
});
