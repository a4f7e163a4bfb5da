// SentencePiece vocabulary (tokenizer.ggml.model = "llama") → Hugging Face BPE tokenizer.json.
//
// llama.cpp's llm_tokenizer_spm_session (llama-vocab.cpp) tokenizes like this:
//   1. prepend " " to each piece of raw text (add_space_prefix) and replace every " " with "▁";
//   2. start from single characters; repeatedly merge the adjacent pair whose concatenation is a
//      vocabulary token with the highest score, the leftmost pair first on equal scores;
//   3. emit each resulting piece as its token, or, for a character not in the vocabulary, as
//      <0xXX> byte tokens (byte fallback).
// The same algorithm is a BPE model whose merges are all pairs (left, right) with left+right in the
// vocabulary, ranked by the score of left+right, with byte_fallback on; step 1 is a normalizer.

import type { HfBpeModel, HfNormalizer, HfTokenizerJson } from "./hf-json.js";
import { vocabObject } from "./hf-json.js";
import type { GgufVocab } from "./vocab.js";

const SPACE_MARK = "▁"; // U+2581, SentencePiece's visible space

export interface SpmConversion {
  json: HfTokenizerJson;
  /**
   * Rank of every merge pair, keyed like the library's BPE.bpe_ranks. Pairs that build tokens of
   * equal score share one rank; spmTokenizer in index.ts explains why and installs them.
   */
  ranks: Map<string, number>;
}

export function spmTokenizerJson(vocab: GgufVocab): SpmConversion {
  const { merges, ranks } = mergesFromScores(vocab.tokens, vocab.scores);
  const replaceSpaces: HfNormalizer = { type: "Replace", pattern: { String: " " }, content: SPACE_MARK };
  const normalizer: HfNormalizer = vocab.addSpacePrefix
    ? { type: "Sequence", normalizers: [{ type: "Prepend", prepend: SPACE_MARK }, replaceSpaces] }
    : replaceSpaces;
  const unknownId = vocab.optionalIds.get("unknown_token_id");
  const model: HfBpeModel = {
    type: "BPE",
    vocab: vocabObject(vocab.tokens),
    merges,
    unk_token: unknownId === undefined ? null : vocab.tokens[unknownId]!,
    byte_fallback: true,
    ignore_merges: false,
    fuse_unk: false,
    dropout: null,
    continuing_subword_suffix: null,
    end_of_word_suffix: null,
  };
  return {
    json: { version: "1.0", added_tokens: [], normalizer, pre_tokenizer: null, model, post_processor: null, decoder: null },
    ranks,
  };
}

/** The key the library uses for a merge pair in BPE.bpe_ranks. */
export const pairKey = (left: string, right: string) => JSON.stringify([left, right]);

/**
 * Every split of every vocabulary token into two parts that can both appear as symbols during
 * merging: a vocabulary token, or a single character (the starting symbols, even when a character is
 * itself not a token). Ordered by the score of the whole token, highest first.
 */
function mergesFromScores(tokens: string[], scores: Float64Array): { merges: [string, string][]; ranks: Map<string, number> } {
  const idOfText = new Map<string, number>();
  tokens.forEach((text, id) => idOfText.set(text, id)); // last wins, as llama.cpp's token_to_id
  const isSymbol = (text: string, codePoints: number) => codePoints === 1 || idOfText.has(text);

  const candidates: { left: string; right: string; score: number }[] = [];
  for (const [text, id] of idOfText) {
    const chars = Array.from(text);
    for (let cut = 1; cut < chars.length; cut++) {
      const left = chars.slice(0, cut).join("");
      const right = chars.slice(cut).join("");
      if (isSymbol(left, cut) && isSymbol(right, chars.length - cut)) {
        candidates.push({ left, right, score: scores[id]! });
      }
    }
  }
  candidates.sort((a, b) => b.score - a.score);

  // Rank = position of the score among the distinct scores, so equal scores tie.
  const merges: [string, string][] = [];
  const ranks = new Map<string, number>();
  let rank = -1;
  let previousScore = Number.NaN;
  for (const { left, right, score } of candidates) {
    if (score !== previousScore) {
      rank++;
      previousScore = score;
    }
    merges.push([left, right]);
    ranks.set(pairKey(left, right), rank);
  }
  return { merges, ranks };
}
