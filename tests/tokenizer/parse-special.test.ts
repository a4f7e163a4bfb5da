// Special-token parsing (llama.cpp's parse_special): with it on, control tokens written in the text
// ("<|im_start|>", "<|turn>", "<s>") become their single ids, as chat templates need; with it off
// they are ordinary text and only user-defined tokens are cut out. Expected ids come from llama.cpp
// (llama-cpp.test.ts re-checks them live, with many more texts).

import { describe, expect, it } from "vitest";
import { PARSE_SPECIAL_CASES, tokenizerFor, vocabFile } from "./fixtures.js";

describe("parseSpecial", () => {
  for (const { vocab, text, ids } of PARSE_SPECIAL_CASES) {
    it(`${vocab}: ${JSON.stringify(text)}`, async () => {
      const tokenizer = await tokenizerFor(vocabFile(vocab));
      expect(tokenizer.encode(text, { parseSpecial: true })).toEqual(ids);
      // without it the control tokens are spelled out piece by piece
      const plain = tokenizer.encode(text);
      expect(plain.length).toBeGreaterThan(ids.length);
      expect(plain.filter((id) => ids.includes(id) && tokenizer.decode([id]) === "")).toEqual([]);
      // either way the text decodes back (control tokens render as nothing)
      expect(tokenizer.decode(plain)).toBe(text);
    });
  }

  it("gemma-4: user-defined tokens (<|tool_call>) are cut out with or without it", async () => {
    const tokenizer = await tokenizerFor(vocabFile("gemma-4"));
    for (const parseSpecial of [false, true]) {
      expect(tokenizer.encode("<|tool_call>x<tool_call|>", { parseSpecial })).toEqual([48, 236781, 49]);
    }
  });

  it("BOS from addBos and a <bos> written in the text give the same id", async () => {
    const tokenizer = await tokenizerFor(vocabFile("gemma-4"));
    expect(tokenizer.encode("<bos>Hi", { parseSpecial: true })).toEqual(tokenizer.encode("Hi", { addBos: true }));
  });
});
