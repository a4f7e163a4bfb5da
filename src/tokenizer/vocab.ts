// The tokenizer part of a GGUF header, read once into plain arrays.
// Mirrors what llama.cpp's llama_vocab::impl::load takes from the file (llama-vocab.cpp), with the same
// defaults, so that the converters in spm.ts / bpe.ts never look at raw metadata.

import { GgufError } from "../gguf/errors.js";
import { hasKey, metaBool, metaNumber, metaNumberArray, metaString, metaStringArray } from "../gguf/metadata.js";
import type { GgufHeader } from "../gguf/types.js";
import { findPreTokenizer } from "./pretokenizers.js";

/** tokenizer.ggml.token_type values (llama_token_type in llama.h). */
export const TokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

/**
 * llama.cpp's vocabulary type: "spm" for tokenizer.ggml.model = "llama" (SentencePiece merges by
 * score), "bpe" for "gpt2" and "gemma4" (merges by rank from tokenizer.ggml.merges).
 */
export type VocabFamily = "spm" | "bpe";

export interface GgufVocab {
  family: VocabFamily;
  /** tokenizer.ggml.pre, "default" when absent (llama.cpp does the same, with a warning); always "gemma4" for that model. */
  pre: string;
  /**
   * Token texts write a space as "▁" and hold raw UTF-8 otherwise: every SPM vocabulary, and BPE with
   * the gemma4 pre-tokenizer (llama.cpp's escape_whitespaces). Otherwise BPE texts are GPT-2 byte symbols.
   */
  spaceMarks: boolean;
  /** Token texts by id. An empty text becomes "[EMPTY_<id>]" as in llama.cpp, so it can never match input. */
  tokens: string[];
  /** SPM merge priorities (tokenizer.ggml.scores); zeros when absent. */
  scores: Float64Array;
  /** tokenizer.ggml.token_type; all normal when absent. */
  types: Int32Array;
  /** BPE merges "left right" (bpe family only). */
  merges: string[];
  bosId: number | undefined;
  eosId: number | undefined;
  /** Ids given by optional keys (tokenizer.ggml.eot_token_id, ...), only when present and in range. */
  optionalIds: Map<string, number>;
  addBos: boolean;
  /** tokenizer.ggml.add_eos_token; false when absent. */
  addEos: boolean;
  /**
   * tokenizer.ggml.add_space_prefix (default: true for SPM, false for BPE). SPM prepends "▁" to each
   * piece of raw text; for both, decoding drops one leading space, as llama.cpp's detokenizer does.
   */
  addSpacePrefix: boolean;
  /** general.name and general.architecture: llama.cpp keys a few per-model token attributes on them. */
  modelName: string;
  architecture: string;
}

const KEY = "tokenizer.ggml.";

/** Ids read by key; the deprecated prefix/suffix/middle keys feed the same FIM roles as in llama.cpp. */
export const OPTIONAL_ID_KEYS = [
  "eot_token_id",
  "eom_token_id",
  "unknown_token_id",
  "fim_pre_token_id",
  "fim_suf_token_id",
  "fim_mid_token_id",
  "fim_pad_token_id",
  "fim_rep_token_id",
  "fim_sep_token_id",
  "prefix_token_id",
  "suffix_token_id",
  "middle_token_id",
] as const;

/**
 * The part of a vocabulary that says which tokens are special (what special.ts reads), for any
 * tokenizer.ggml.model — also one we cannot tokenize with, whose end-of-generation tokens a chat needs.
 */
export type SpecialTokenVocab = Pick<GgufVocab, "tokens" | "types" | "eosId" | "optionalIds" | "pre" | "modelName" | "architecture">;

export function readSpecialTokenVocab(header: GgufHeader): SpecialTokenVocab & { model: string; bosId: number | undefined } {
  const model = metaString(header, KEY + "model");
  const tokens = metaStringArray(header, KEY + "tokens").map((text, id) => (text === "" ? `[EMPTY_${id}]` : text));
  if (tokens.length === 0) throw new GgufError("bad_metadata", `GGUF metadata "${KEY}tokens" is empty`);

  const types = new Int32Array(tokens.length).fill(TokenType.normal);
  const rawTypes = metaNumberArray(header, KEY + "token_type");
  if (rawTypes) {
    checkLength(rawTypes.length, tokens.length, KEY + "token_type");
    for (let i = 0; i < tokens.length; i++) types[i] = rawTypes[i]!;
  }

  const readId = (key: string): number | undefined => {
    if (!hasKey(header, key)) return undefined;
    const id = metaNumber(header, key);
    // Out-of-range ids (often 0xFFFFFFFF for "none") are ignored, as llama.cpp does with a warning.
    return Number.isInteger(id) && id >= 0 && id < tokens.length ? id : undefined;
  };
  const optionalIds = new Map<string, number>();
  for (const name of OPTIONAL_ID_KEYS) {
    const id = readId(KEY + name);
    if (id !== undefined) optionalIds.set(name, id);
  }
  // llama.cpp's defaults when a key is absent: SPM vocabularies use <s>=1, </s>=2. (llama.cpp's BPE
  // default id 11 is a Falcon leftover that would name an ordinary token elsewhere, so we leave it out.)
  // tokenizer.ggml.model = "gemma4" implies the gemma4 pre-tokenizer.
  const inRange = (id: number) => (id < tokens.length ? id : undefined);
  const givenPre = hasKey(header, KEY + "pre") ? metaString(header, KEY + "pre") : "default";
  return {
    model,
    tokens,
    types,
    bosId: readId(KEY + "bos_token_id") ?? (model === "llama" ? inRange(1) : undefined),
    eosId: readId(KEY + "eos_token_id") ?? (model === "llama" ? inRange(2) : undefined),
    optionalIds,
    pre: model === "gemma4" ? "gemma4" : givenPre,
    modelName: hasKey(header, "general.name") ? metaString(header, "general.name") : "",
    architecture: hasKey(header, "general.architecture") ? metaString(header, "general.architecture") : "",
  };
}

export function readVocab(header: GgufHeader): GgufVocab {
  const { model, ...special } = readSpecialTokenVocab(header);
  if (model !== "llama" && model !== "gpt2" && model !== "gemma4") {
    throw new GgufError(
      "bad_metadata",
      `GGUF metadata "${KEY}model" is "${model}": only "llama" (SentencePiece), "gpt2" (byte-level BPE) ` +
        `and "gemma4" (BPE over SentencePiece-style text) tokenizers are supported`,
    );
  }
  const family: VocabFamily = model === "llama" ? "spm" : "bpe";
  const { tokens, pre } = special;

  const scores = new Float64Array(tokens.length);
  const rawScores = metaNumberArray(header, KEY + "scores");
  if (rawScores) {
    checkLength(rawScores.length, tokens.length, KEY + "scores");
    for (let i = 0; i < tokens.length; i++) scores[i] = rawScores[i]!;
  }

  // llama.cpp refuses a BPE vocabulary without merges: without them BPE would emit single characters only.
  const merges = family === "bpe" ? metaStringArray(header, KEY + "merges") : [];

  // SPM adds BOS by default; BPE only for some pre-tokenizers (llama3, tekken, gemma4: see pretokenizers.ts).
  // gemma4 adds BOS even when add_bos_token says false (a llama.cpp workaround for Gemma 4 files).
  const preSpec = family === "bpe" ? findPreTokenizer(pre) : undefined;
  const addBosFallback = family === "spm" || preSpec?.addBos === true;
  const addBos = preSpec?.forceBos === true || metaBool(header, KEY + "add_bos_token", addBosFallback);

  return {
    ...special,
    family,
    spaceMarks: family === "spm" || preSpec?.spaceMarks === true,
    scores,
    merges,
    addBos,
    addEos: metaBool(header, KEY + "add_eos_token", false),
    addSpacePrefix: metaBool(header, KEY + "add_space_prefix", family === "spm"),
  };
}

function checkLength(found: number, expected: number, key: string): void {
  if (found < expected) {
    throw new GgufError("bad_metadata", `GGUF metadata "${key}" has ${found} entries for ${expected} tokens`);
  }
}
