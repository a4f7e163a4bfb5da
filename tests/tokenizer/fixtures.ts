// Shared loaders for the tokenizer tests: GGUF vocab files from WEBKV_VOCAB / WEBKV_MODELS, the tokenizer
// built from each, and llama.cpp's test vectors (NAME.gguf.inp / NAME.gguf.out beside every vocab file).

import { readFileSync } from "node:fs";
import { fileSource } from "../../src/gguf/node-source.js";
import { readGgufHeader } from "../../src/gguf/reader.js";
import type { GgufHeader } from "../../src/gguf/types.js";
import { meta, type GgufWriteValue } from "../../src/gguf/writer.js";
import { createTokenizer, type GgufTokenizer } from "../../src/tokenizer/index.js";
import { vocabPath } from "../helpers/env.js";

/** The vocab files shipped with llama.cpp's tokenizer tests, by short name. */
export const VOCAB_NAMES = [
  "llama-spm",
  "phi-3",
  "gpt-2",
  "deepseek-llm",
  "starcoder",
  "deepseek-coder",
  "falcon",
  "mpt",
  "refact",
  "llama-bpe",
  "qwen2",
  "qwen35",
  "gemma-4",
] as const;
export type VocabName = (typeof VOCAB_NAMES)[number];

export const vocabFile = (name: VocabName) => vocabPath(`ggml-vocab-${name}.gguf`);

export async function readHeader(path: string): Promise<GgufHeader> {
  const source = await fileSource(path);
  try {
    return await readGgufHeader(source);
  } finally {
    await source.close?.();
  }
}

const tokenizers = new Map<string, Promise<GgufTokenizer>>();

/** One tokenizer per file for the whole test file (building one takes a few hundred milliseconds). */
export function tokenizerFor(path: string): Promise<GgufTokenizer> {
  let found = tokenizers.get(path);
  if (!found) {
    found = readHeader(path).then(createTokenizer);
    tokenizers.set(path, found);
  }
  return found;
}

export interface VocabVectors {
  inputs: string[];
  /** Expected ids per input, without BOS. */
  expected: number[][];
}

/** llama.cpp's vectors: inputs separated by "\n__ggml_vocab_test__\n", one line of ids per input. */
export function readVectors(name: VocabName): VocabVectors {
  const path = vocabFile(name);
  const inputs = readFileSync(`${path}.inp`, "utf8").split("\n__ggml_vocab_test__\n");
  inputs.pop(); // the file ends with a separator
  const lines = readFileSync(`${path}.out`, "utf8").split("\n").slice(0, inputs.length);
  const expected = lines.map((line) => (line.trim() === "" ? [] : line.trim().split(/\s+/).map(Number)));
  if (expected.length !== inputs.length) throw new Error(`${path}.out has ${expected.length} lines for ${inputs.length} inputs`);
  return { inputs, expected };
}

/**
 * A tiny SentencePiece vocabulary where every token has the same score, so llama.cpp's tie rule
 * (leftmost pair first) decides every merge, plus two overlapping user-defined tokens.
 */
export function tiedSpmMetadata(): Record<string, GgufWriteValue> {
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const tokens = ["<unk>", "<s>", "</s>", ...bytes, "▁", "a", "b", "ab", "ba", "▁a", "xy", "yzw"];
  const types = [2, 3, 3, ...bytes.map(() => 6), 1, 1, 1, 1, 1, 1, 4, 4];
  return {
    "general.architecture": meta.str("llama"),
    "tokenizer.ggml.model": meta.str("llama"),
    "tokenizer.ggml.tokens": meta.strs(tokens),
    "tokenizer.ggml.scores": meta.f32s(tokens.map(() => 0)),
    "tokenizer.ggml.token_type": meta.i32s(types),
  };
}

/** Texts for the tied vocabulary and the pieces llama.cpp gives them (checked live in llama-cpp.test.ts). */
export const TIED_SPM_CASES: ReadonlyArray<[string, string[]]> = [
  ["aba", ["▁a", "ba"]],
  ["bab", ["▁", "ba", "b"]],
  ["abab", ["▁a", "ba", "b"]],
  ["xbaba", ["▁", "<0x78>", "ba", "ba"]],
  // "yzw" is longer, so llama.cpp cuts it out before looking for "xy"
  ["xyzw", ["▁", "<0x78>", "yzw"]],
  // the text before a cut-out token gets its own "▁" prefix; the text after "xy" starts a new piece
  ["xyab yzw", ["xy", "▁a", "b", "▁", "yzw"]],
];

/** The same fixed-seed generator everywhere, so every run checks the same strings. */
export function seededRandom(seed: number): () => number {
  return () => (seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x80000000;
}

/**
 * A byte-level BPE vocabulary that makes pre-tokenizer splits visible in the ids: every byte, plus
 * every pair of the bytes that occur in `texts` as a token, merged in a shuffled order. A pair can only
 * merge inside one pre-token, so two tokenizers that split differently give different ids.
 */
export function pairVocabMetadata(pre: string, texts: string[], options: { withBos?: boolean } = {}): Record<string, GgufWriteValue> {
  const printable = (b: number) => (b >= 0x21 && b <= 0x7e) || (b >= 0xa1 && b <= 0xac) || (b >= 0xae && b <= 0xff);
  const symbols: string[] = [];
  for (let b = 0, shifted = 0; b < 256; b++) symbols.push(String.fromCodePoint(printable(b) ? b : 0x100 + shifted++));
  const used = [...new Set(texts.flatMap((text) => [...new TextEncoder().encode(text)]))];
  const pairs = used.flatMap((left) => used.map((right) => symbols[left]! + " " + symbols[right]!));
  const random = seededRandom(99);
  for (let i = pairs.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [pairs[i], pairs[j]] = [pairs[j]!, pairs[i]!];
  }
  const tokens = [...symbols, ...pairs.map((pair) => pair.replace(" ", ""))];
  return {
    "general.architecture": meta.str("llama"),
    "tokenizer.ggml.model": meta.str("gpt2"),
    "tokenizer.ggml.pre": meta.str(pre),
    "tokenizer.ggml.tokens": meta.strs(tokens),
    "tokenizer.ggml.merges": meta.strs(pairs),
    // withBos: the symbol of byte 0 (never in the texts) doubles as a control BOS token
    "tokenizer.ggml.token_type": meta.i32s(tokens.map((_, id) => (options.withBos && id === 0 ? 3 : 1))),
    ...(options.withBos ? { "tokenizer.ggml.bos_token_id": meta.u32(0) } : {}),
  };
}

/**
 * A tiny gemma4 vocabulary (BPE over "▁"-marked text): byte tokens, three newline-run tokens that no
 * merge builds, and merges where "▁ a" outranks "a b". Shows llama.cpp's whole-newline-run lookup,
 * merge order, and <0xXX> fallback for characters that are not tokens.
 */
export function tinyGemma4Metadata(): Record<string, GgufWriteValue> {
  const bytes = Array.from({ length: 256 }, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
  const tokens = ["<pad>", "<eos>", "<bos>", "<unk>", ...bytes, "\n", "\n\n", "\n\n\n", "▁", "a", "b", "▁a", "ab", "<|turn>"];
  const types = [3, 3, 3, 3, ...bytes.map(() => 6), 1, 1, 1, 1, 1, 1, 1, 1, 3];
  return {
    "general.architecture": meta.str("llama"),
    "tokenizer.ggml.model": meta.str("gemma4"),
    "tokenizer.ggml.tokens": meta.strs(tokens),
    "tokenizer.ggml.token_type": meta.i32s(types),
    "tokenizer.ggml.merges": meta.strs(["▁ a", "a b"]),
    "tokenizer.ggml.bos_token_id": meta.u32(2),
    "tokenizer.ggml.eos_token_id": meta.u32(1),
  };
}

/** Texts for the tiny gemma4 vocabulary and the pieces llama.cpp gives them (checked live in llama-cpp.test.ts). */
export const TINY_GEMMA4_CASES: ReadonlyArray<[string, string[]]> = [
  // a newline run that is a token is taken whole, though no merge builds it
  ["a\n\n\nb", ["a", "\n\n\n", "b"]],
  // a run that is not a token is merged as usual: no merge joins newlines
  ["\n\n\n\n", ["\n", "\n", "\n", "\n"]],
  // spaces become "▁"; "▁ a" (rank 0) goes before "a b" (rank 1)
  [" ab a", ["▁a", "b", "▁a"]],
  ["ab", ["ab"]],
  // a character that is not a token falls back to its UTF-8 bytes
  ["a y", ["a", "▁", "<0x79>"]],
  ["é", ["<0xC3>", "<0xA9>"]],
  // a control token is plain text unless special tokens are parsed
  ["<|turn>", ["<0x3C>", "<0x7C>", "<0x74>", "<0x75>", "<0x72>", "<0x6E>", "<0x3E>"]],
];

/**
 * Chat-template text with special tokens, and the ids llama_tokenize(text, add_special=false,
 * parse_special=true) gives (checked live in llama-cpp.test.ts).
 */
export const PARSE_SPECIAL_CASES: ReadonlyArray<{ vocab: VocabName; text: string; ids: number[] }> = [
  { vocab: "qwen35", text: "<|im_start|>user\nHi<|im_end|>", ids: [151644, 872, 198, 13048, 151645] },
  { vocab: "qwen2", text: "<|im_start|>user\nHi<|im_end|>", ids: [151644, 872, 198, 13048, 151645] },
  {
    vocab: "llama-bpe",
    text: "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>",
    ids: [128000, 128006, 882, 128007, 271, 13347, 128009],
  },
  { vocab: "gemma-4", text: "<bos><|turn>user\nHi<turn|>", ids: [2, 105, 2364, 107, 10979, 106] },
  // SPM: the text after a special token gets its own "▁" prefix
  { vocab: "llama-spm", text: "<s>[INST] Hi </s>", ids: [1, 518, 25580, 29962, 6324, 29871, 2] },
  // phi-3: special tokens swallow the whitespace after them (rstrip)
  { vocab: "phi-3", text: "<|user|>\nHi<|end|>\n<|assistant|>", ids: [32010, 6324, 32007, 32001] },
];
