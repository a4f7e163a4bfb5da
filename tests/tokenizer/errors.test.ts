// Tokenizer metadata that cannot be used fails with a GgufError naming the key and the value found.
// The headers are real vocab files with one metadata entry changed or removed.

import { beforeAll, describe, expect, it } from "vitest";
import { GgufError } from "../../src/gguf/errors.js";
import type { GgufHeader, GgufValue } from "../../src/gguf/types.js";
import { createTokenizer } from "../../src/tokenizer/index.js";
import { modelPath } from "../helpers/env.js";
import { readHeader, vocabFile } from "./fixtures.js";

let spm: GgufHeader; // stories260K: 512 SentencePiece tokens
let bpe: GgufHeader; // gpt-2

beforeAll(async () => {
  spm = await readHeader(modelPath("stories260K.gguf"));
  bpe = await readHeader(vocabFile("gpt-2"));
});

/** A copy of `header` with metadata keys set (or removed, with undefined). */
function edited(header: GgufHeader, changes: Record<string, GgufValue | undefined>): GgufHeader {
  const metadata = new Map(header.metadata);
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) metadata.delete(key);
    else metadata.set(key, value);
  }
  return { ...header, metadata };
}

function failure(build: () => unknown): GgufError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(GgufError);
    return error as GgufError;
  }
  throw new Error("expected a GgufError");
}

describe("tokenizer metadata errors", () => {
  it("unknown tokenizer.ggml.model names the model", () => {
    const error = failure(() => createTokenizer(edited(spm, { "tokenizer.ggml.model": "t5" })));
    expect(error.code).toBe("bad_metadata");
    expect(error.message).toContain('"tokenizer.ggml.model" is "t5"');
  });

  it("missing tokenizer.ggml.model", () => {
    const error = failure(() => createTokenizer(edited(spm, { "tokenizer.ggml.model": undefined })));
    expect(error.code).toBe("missing_key");
    expect(error.message).toContain("tokenizer.ggml.model");
  });

  it("unknown tokenizer.ggml.pre names the pre-tokenizer (no silent fallback)", () => {
    const error = failure(() => createTokenizer(edited(bpe, { "tokenizer.ggml.pre": "brand-new-lm" })));
    expect(error.code).toBe("bad_metadata");
    expect(error.message).toContain('"tokenizer.ggml.pre" is "brand-new-lm"');
  });

  it("absent tokenizer.ggml.pre uses llama.cpp's default pre-tokenizer", () => {
    const tokenizer = createTokenizer(edited(bpe, { "tokenizer.ggml.pre": undefined }));
    // the default regexes split digits into groups of three
    expect(tokenizer.encode("1234567").map((id) => tokenizer.tokenText(id))).toEqual(["123", "456", "7"]);
  });

  it("missing tokens array", () => {
    for (const header of [spm, bpe]) {
      const error = failure(() => createTokenizer(edited(header, { "tokenizer.ggml.tokens": undefined })));
      expect(error.code).toBe("missing_key");
      expect(error.message).toContain('"tokenizer.ggml.tokens" is missing');
    }
  });

  it("tokens that are not strings", () => {
    const error = failure(() => createTokenizer(edited(spm, { "tokenizer.ggml.tokens": new Int32Array(4) })));
    expect(error.code).toBe("bad_metadata");
    expect(error.message).toContain("tokenizer.ggml.tokens");
  });

  it("missing merges for a gpt2 vocabulary", () => {
    const error = failure(() => createTokenizer(edited(bpe, { "tokenizer.ggml.merges": undefined })));
    expect(error.code).toBe("missing_key");
    expect(error.message).toContain("tokenizer.ggml.merges");
  });

  it("scores or token types shorter than the vocabulary", () => {
    for (const key of ["tokenizer.ggml.scores", "tokenizer.ggml.token_type"]) {
      const error = failure(() => createTokenizer(edited(spm, { [key]: new Float32Array(10) })));
      expect(error.code).toBe("bad_metadata");
      expect(error.message).toContain(`"${key}" has 10 entries for 512 tokens`);
    }
  });

  it("EOS added only when asked; tokenizer.ggml.add_eos_token sets the default", () => {
    expect(createTokenizer(bpe).addEosDefault).toBe(false);
    const tokenizer = createTokenizer(edited(bpe, { "tokenizer.ggml.add_eos_token": true }));
    expect(tokenizer.addEosDefault).toBe(true);
    expect(tokenizer.encode("hi")).toEqual([5303]);
    expect(tokenizer.encode("hi", { addBos: true, addEos: true })).toEqual([50256, 5303, 50256]);
    const error = failure(() => createTokenizer(edited(bpe, { "tokenizer.ggml.eos_token_id": undefined })).encode("hi", { addEos: true }));
    expect(error.code).toBe("missing_key");
    expect(error.message).toContain("tokenizer.ggml.eos_token_id");
  });

  it("tokenizer.ggml.add_bos_token overrides the default, except for gemma4, where llama.cpp always adds BOS", () => {
    expect(createTokenizer(edited(bpe, { "tokenizer.ggml.add_bos_token": true })).addBosDefault).toBe(true);
    expect(createTokenizer(edited(spm, { "tokenizer.ggml.add_bos_token": false })).addBosDefault).toBe(false);
    const gemma4Style = edited(bpe, { "tokenizer.ggml.pre": "gemma4", "tokenizer.ggml.add_bos_token": false });
    expect(createTokenizer(gemma4Style).addBosDefault).toBe(true);
  });

  it("BOS requested when the vocabulary has none", () => {
    const tokenizer = createTokenizer(edited(bpe, { "tokenizer.ggml.bos_token_id": undefined }));
    expect(tokenizer.bosId).toBeUndefined();
    expect(tokenizer.encode("hi")).toEqual([5303]);
    const error = failure(() => tokenizer.encode("hi", { addBos: true }));
    expect(error.code).toBe("missing_key");
    expect(error.message).toContain("tokenizer.ggml.bos_token_id");
  });
});
