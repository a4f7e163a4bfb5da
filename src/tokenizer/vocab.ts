// The tokenizer part of a GGUF header, read once into plain arrays.
// Mirrors what llama.cpp's llama_vocab::impl::load takes from the file (llama-vocab.cpp), with the same
// defaults, so that the converters in spm.ts / bpe.ts never look at raw metadata.

import { GgufError } from "../gguf/errors.js";
import { hasKey, metaBool, metaNumber, metaNumberArray, metaString, metaStringArray } from "../gguf/metadata.js";
import type { GgufHeader } from "../gguf/types.js";

/** tokenizer.ggml.token_type values (llama_token_type in llama.h). */
export const TokenType = {
  normal: 1,
  unknown: 2,
  control: 3,
  userDefined: 4,
  unused: 5,
  byte: 6,
} as const;

export type VocabFamily = "llama" | "gpt2";

export interface GgufVocab {
  family: VocabFamily;
  /** tokenizer.ggml.pre, "default" when absent (llama.cpp does the same, with a warning). */
  pre: string;
  /** Token texts by id. An empty text becomes "[EMPTY_<id>]" as in llama.cpp, so it can never match input. */
  tokens: string[];
  /** SPM merge priorities (tokenizer.ggml.scores); zeros when absent. */
  scores: Float64Array;
  /** tokenizer.ggml.token_type; all normal when absent. */
  types: Int32Array;
  /** BPE merges "left right" (gpt2 family only). */
  merges: string[];
  bosId: number | undefined;
  eosId: number | undefined;
  /** Ids given by optional keys (tokenizer.ggml.eot_token_id, ...), only when present and in range. */
  optionalIds: Map<string, number>;
  addBos: boolean;
  /** SPM only: prepend "▁" to each piece of raw text (tokenizer.ggml.add_space_prefix, default true). */
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
 * tokenizer.ggml.model — also those we cannot tokenize with (gemma4, ...), whose end-of-generation
 * tokens a chat still needs.
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
  const inRange = (id: number) => (id < tokens.length ? id : undefined);
  return {
    model,
    tokens,
    types,
    bosId: readId(KEY + "bos_token_id") ?? (model === "llama" ? inRange(1) : undefined),
    eosId: readId(KEY + "eos_token_id") ?? (model === "llama" ? inRange(2) : undefined),
    optionalIds,
    pre: hasKey(header, KEY + "pre") ? metaString(header, KEY + "pre") : "default",
    modelName: hasKey(header, "general.name") ? metaString(header, "general.name") : "",
    architecture: hasKey(header, "general.architecture") ? metaString(header, "general.architecture") : "",
  };
}

export function readVocab(header: GgufHeader): GgufVocab {
  const { model, ...special } = readSpecialTokenVocab(header);
  if (model !== "llama" && model !== "gpt2") {
    throw new GgufError(
      "bad_metadata",
      `GGUF metadata "${KEY}model" is "${model}": only "llama" (SentencePiece) and "gpt2" (byte-level BPE) tokenizers are supported`,
    );
  }
  const family: VocabFamily = model;
  const { tokens, pre } = special;

  const scores = new Float64Array(tokens.length);
  const rawScores = metaNumberArray(header, KEY + "scores");
  if (rawScores) {
    checkLength(rawScores.length, tokens.length, KEY + "scores");
    for (let i = 0; i < tokens.length; i++) scores[i] = rawScores[i]!;
  }

  // llama.cpp refuses a gpt2 vocabulary without merges: without them BPE would emit single bytes only.
  const merges = family === "gpt2" ? metaStringArray(header, KEY + "merges") : [];

  // byte-level BPE adds BOS by default only for the llama3-style pre-tokenizers.
  const addBosFallback = family === "llama" || LLAMA3_STYLE_PRE.has(pre);

  return {
    ...special,
    family,
    scores,
    merges,
    addBos: metaBool(header, KEY + "add_bos_token", addBosFallback),
    addSpacePrefix: family === "llama" ? metaBool(header, KEY + "add_space_prefix", true) : false,
  };
}

/** Pre-tokenizer names for which llama.cpp turns add_bos on by default. */
const LLAMA3_STYLE_PRE = new Set(["llama3", "llama-v3", "llama-bpe", "falcon3", "pixtral"]);

function checkLength(found: number, expected: number, key: string): void {
  if (found < expected) {
    throw new GgufError("bad_metadata", `GGUF metadata "${key}" has ${found} entries for ${expected} tokens`);
  }
}
