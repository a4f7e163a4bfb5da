// Turning ids back into text: the stream decoder holds back bytes of a character split across tokens,
// and the special-token accessors (BOS/EOS, end of generation, add-BOS default) read what the GGUF
// file says. (Round trips over the llama.cpp test inputs are in vectors.test.ts.)

import { describe, expect, it } from "vitest";
import type { GgufTokenizer } from "../../src/tokenizer/index.js";
import { modelPath } from "../helpers/env.js";
import { tokenizerFor, vocabFile } from "./fixtures.js";

function streamAll(tokenizer: GgufTokenizer, ids: number[]): string[] {
  const stream = tokenizer.createStreamDecoder();
  return [...ids.map((id) => stream.push(id)), stream.flush()];
}

describe("stream decoder", () => {
  it("holds back byte-fallback tokens until the UTF-8 character is complete (SPM)", async () => {
    const tokenizer = await tokenizerFor(vocabFile("llama-spm"));
    const ids = tokenizer.encode("🦙!");
    // "▁", then the four bytes of U+1F999 as <0xF0> <0x9F> <0xA6> <0x99>, then "!"
    expect(ids.slice(1, 5).map((id) => tokenizer.tokenText(id))).toEqual(["<0xF0>", "<0x9F>", "<0xA6>", "<0x99>"]);
    expect(streamAll(tokenizer, ids)).toEqual([" ", "", "", "", "🦙", "!", ""]);
  });

  it("holds back byte-fallback bytes in a small vocabulary (stories260K)", async () => {
    const tokenizer = await tokenizerFor(modelPath("stories260K.gguf"));
    const ids = tokenizer.encode("ж");
    expect(ids.map((id) => tokenizer.tokenText(id))).toEqual(["▁", "<0xD0>", "<0xB6>"]);
    expect(streamAll(tokenizer, ids)).toEqual([" ", "", "ж", ""]);
  });

  it("holds back byte-level BPE tokens that end inside a character (gpt-2)", async () => {
    const tokenizer = await tokenizerFor(vocabFile("gpt-2"));
    const ids = tokenizer.encode(" 🦙.cpp");
    expect(ids).toEqual([12520, 99, 247, 13, 20322]);
    expect(streamAll(tokenizer, ids)).toEqual([" ", "", "🦙", ".", "cpp", ""]);
  });

  it("flushes an incomplete character as U+FFFD and can be reused", async () => {
    const tokenizer = await tokenizerFor(vocabFile("llama-spm"));
    const [, first] = tokenizer.encode("🦙");
    const stream = tokenizer.createStreamDecoder();
    expect(stream.push(first!)).toBe("");
    expect(stream.flush()).toBe("\uFFFD");
    expect(stream.push(tokenizer.encode("a")[0]!)).toBe(" a");
  });
});

describe("special tokens", () => {
  it("llama SPM: <s>/</s>, BOS added by default, BOS/EOS/control render as nothing", async () => {
    const tokenizer = await tokenizerFor(vocabFile("llama-spm"));
    expect(tokenizer.vocabSize).toBe(32000);
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.addBosDefault]).toEqual([1, 2, true]);
    expect(tokenizer.tokenText(1)).toBe("<s>");
    const ids = tokenizer.encode("Hello world", { addBos: true });
    expect(ids).toEqual([1, 15043, 3186]);
    expect(tokenizer.decode([...ids, 2])).toBe("Hello world");
    expect(tokenizer.isEndOfGeneration(2)).toBe(true);
    expect(tokenizer.isEndOfGeneration(1)).toBe(false);
    expect(tokenizer.isEndOfGeneration(15043)).toBe(false);
  });

  it("phi-3: <|end|> and </s> end generation besides <|endoftext|>", async () => {
    const tokenizer = await tokenizerFor(vocabFile("phi-3"));
    expect(tokenizer.eosId).toBe(32000);
    expect(tokenizer.tokenText(32007)).toBe("<|end|>");
    for (const id of [32000, 32007, 2]) expect(tokenizer.isEndOfGeneration(id)).toBe(true);
    expect(tokenizer.isEndOfGeneration(32001)).toBe(false); // <|assistant|>
    expect(tokenizer.decode([32001, ...tokenizer.encode("Hi"), 32007])).toBe("Hi");
  });

  it("gpt-2: <|endoftext|> is BOS and EOS, no BOS by default", async () => {
    const tokenizer = await tokenizerFor(vocabFile("gpt-2"));
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.addBosDefault]).toEqual([50256, 50256, false]);
    expect(tokenizer.encode("Hello", { addBos: true })).toEqual([50256, 15496]);
    expect(tokenizer.isEndOfGeneration(50256)).toBe(true);
    expect(tokenizer.tokenText(18435)).toBe("ĠHello");
    expect(tokenizer.decode([18435, 995])).toBe(" Hello world");
  });

  it("user-defined tokens are cut out of text and render as their text (mpt whitespace runs)", async () => {
    const tokenizer = await tokenizerFor(vocabFile("mpt"));
    const ids = tokenizer.encode("a" + " ".repeat(30) + "b");
    // 24 spaces (50254) then 6 spaces (50272): longest user-defined token first, as llama.cpp
    expect(ids).toEqual([66, 50254, 50272, 67]);
    expect(tokenizer.decode(ids)).toBe("a" + " ".repeat(30) + "b");
  });

  it("rejects ids outside the vocabulary", async () => {
    const tokenizer = await tokenizerFor(vocabFile("gpt-2"));
    expect(() => tokenizer.decode([50257])).toThrow(RangeError);
    expect(() => tokenizer.tokenText(-1)).toThrow(/outside the vocabulary/);
    expect(() => tokenizer.createStreamDecoder().push(1.5)).toThrow(RangeError);
  });
});
