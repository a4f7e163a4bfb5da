// llama.cpp's tokenizer test vectors (tests/test-tokenizer-0 in llama.cpp): for each vocab file, its
// inputs (45 to 50) and the ids llama.cpp (and the original Hugging Face tokenizer) give them, without
// BOS and without special-token parsing. Every case must match for every file, and decoding the ids
// must give the input back.

import { describe, expect, it } from "vitest";
import type { GgufTokenizer } from "../../src/tokenizer/index.js";
import { VOCAB_NAMES, readVectors, tokenizerFor, vocabFile } from "./fixtures.js";

// How many cases each file holds, so that a truncated vector file cannot pass unnoticed.
const CASES: Record<string, number> = { qwen35: 50, "gemma-4": 45 };
const casesIn = (name: string) => CASES[name] ?? 46;
const SPM_NAMES = new Set(["llama-spm", "phi-3"]);

function streamAll(tokenizer: GgufTokenizer, ids: number[]): string {
  const stream = tokenizer.createStreamDecoder();
  return ids.map((id) => stream.push(id)).join("") + stream.flush();
}

describe("llama.cpp tokenizer vectors", () => {
  for (const name of VOCAB_NAMES) {
    it(`${name}: all ${casesIn(name)} cases`, async () => {
      const tokenizer = await tokenizerFor(vocabFile(name));
      const { inputs, expected } = readVectors(name);
      expect(inputs.length).toBe(casesIn(name));

      const failures: { input: string; expected: string; got: string }[] = [];
      inputs.forEach((input, i) => {
        const got = tokenizer.encode(input);
        if (got.join(" ") !== expected[i]!.join(" ")) {
          failures.push({ input, expected: expected[i]!.join(" "), got: got.join(" ") });
        }
      });
      expect(failures).toEqual([]);
    });
  }
});

describe("decode(encode(text)) round-trips the llama.cpp test inputs", () => {
  for (const name of VOCAB_NAMES) {
    it(name, async () => {
      const tokenizer = await tokenizerFor(vocabFile(name));
      for (const input of readVectors(name).inputs) {
        const ids = tokenizer.encode(input);
        // SPM adds a space before the text; decode removes it again, as llama.cpp's detokenizer does.
        expect(tokenizer.decode(ids)).toBe(input);
        expect(tokenizer.decode(tokenizer.encode(input, { addBos: true }))).toBe(input);
        // Streaming renders every piece as it is, so SPM's added space shows up in front.
        const streamed = streamAll(tokenizer, ids);
        expect(streamed).toBe(SPM_NAMES.has(name) && input !== "" ? ` ${input}` : input);
      }
    });
  }
});
