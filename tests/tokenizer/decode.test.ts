// Turning ids back into text: the stream decoder holds back bytes of a character split across tokens,
// and the special-token accessors (BOS/EOS, end of generation, add-BOS/EOS defaults) read what the GGUF
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

  it("holds back <0xXX> byte-fallback tokens of a BPE vocabulary over ▁-marked text (gemma-4)", async () => {
    const tokenizer = await tokenizerFor(vocabFile("gemma-4"));
    const ids = tokenizer.encode(" 🦙!");
    expect(ids.map((id) => tokenizer.tokenText(id))).toEqual(["▁", "<0xF0>", "<0x9F>", "<0xA6>", "<0x99>", "!"]);
    expect(streamAll(tokenizer, ids)).toEqual([" ", "", "", "", "🦙", "!", ""]);
    // "▁" is a space in every normal token; nothing is added in front of the text or removed again
    expect(streamAll(tokenizer, tokenizer.encode("Hello  world"))).toEqual(["Hello", "  ", "world", ""]); // ▁▁ world
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

  it("llama-bpe (Llama 3): BOS added by default, <|eot_id|> ends generation", async () => {
    const tokenizer = await tokenizerFor(vocabFile("llama-bpe"));
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.addBosDefault, tokenizer.addEosDefault]).toEqual([128000, 128001, true, false]);
    expect(tokenizer.tokenText(128009)).toBe("<|eot_id|>");
    for (const id of [128001, 128009]) expect(tokenizer.isEndOfGeneration(id)).toBe(true);
    expect(tokenizer.isEndOfGeneration(128000)).toBe(false);
    expect(tokenizer.decode([128000, ...tokenizer.encode("Hi there"), 128009])).toBe("Hi there");
  });

  for (const name of ["qwen2", "qwen35"] as const) {
    it(`${name}: no BOS by default, <|im_end|> and <|endoftext|> end generation`, async () => {
      const tokenizer = await tokenizerFor(vocabFile(name));
      expect([tokenizer.bosId, tokenizer.eosId, tokenizer.addBosDefault, tokenizer.addEosDefault]).toEqual([151643, 151643, false, false]);
      expect(tokenizer.tokenText(151645)).toBe("<|im_end|>");
      for (const id of [151643, 151645]) expect(tokenizer.isEndOfGeneration(id)).toBe(true);
      expect(tokenizer.isEndOfGeneration(151644)).toBe(false); // <|im_start|>
      expect(tokenizer.decode([151644, ...tokenizer.encode("user\nHi"), 151645])).toBe("user\nHi");
    });
  }

  it("gemma-4: <bos>=2, <eos>=1, BOS always added, <turn|> and <|tool_response> end generation, </s> is text", async () => {
    const tokenizer = await tokenizerFor(vocabFile("gemma-4"));
    expect([tokenizer.bosId, tokenizer.eosId, tokenizer.addBosDefault, tokenizer.addEosDefault]).toEqual([2, 1, true, false]);
    expect([105, 106, 50, 212].map((id) => tokenizer.tokenText(id))).toEqual(["<|turn>", "<turn|>", "<|tool_response>", "</s>"]);
    for (const id of [1, 106, 50]) expect(tokenizer.isEndOfGeneration(id)).toBe(true);
    // llama.cpp's Gemma 4 rule: with <|tool_response> in the vocabulary, </s> is an ordinary token
    expect(tokenizer.isEndOfGeneration(212)).toBe(false);
    expect(tokenizer.decode([212])).toBe("</s>");
    expect(tokenizer.encode("Hello world", { addBos: true })).toEqual([2, 9259, 1902]);
    // control tokens render as nothing, user-defined ones (<|tool_call>) as their text
    expect(tokenizer.decode([2, 105, ...tokenizer.encode("user"), 106, 48])).toBe("user<|tool_call>");
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
