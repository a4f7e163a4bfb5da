// Byte-level BPE vocabulary (tokenizer.ggml.model = "gpt2") → Hugging Face BPE tokenizer.json.
// (BPE over "▁"-marked text, the gemma4 pre-tokenizer, is in gemma4.ts.)
//
// llama.cpp's llm_tokenizer_bpe_session (llama-vocab.cpp) tokenizes a piece of raw text like this:
//   1. split it with the pre-tokenizer regexes of tokenizer.ggml.pre (pretokenizers.ts);
//   2. write each piece's UTF-8 bytes as GPT-2 "byte symbols" (unicode_byte_encoding_process);
//   3. merge adjacent symbols by the rank of the pair in tokenizer.ggml.merges, lowest rank first,
//      leftmost first on equal rank; pieces found whole in the vocabulary skip merging (llama3);
//   4. emit each result's token; results that are not tokens are dropped.
// In Hugging Face terms that is Split pre-tokenizers + ByteLevel + a BPE model without unk_token.

import type { HfBpeModel, HfPreTokenizer, HfTokenizerJson } from "./hf-json.js";
import { vocabObject } from "./hf-json.js";
import { preTokenizerFor } from "./pretokenizers.js";
import type { GgufVocab } from "./vocab.js";

export function bpeTokenizerJson(vocab: GgufVocab): HfTokenizerJson {
  const { regexes, ignoreMerges } = preTokenizerFor(vocab.pre);
  const splits: HfPreTokenizer[] = regexes.map((regex) => ({
    type: "Split",
    pattern: { Regex: regex },
    behavior: "Isolated",
    invert: false,
  }));
  const preTokenizer: HfPreTokenizer = {
    type: "Sequence",
    pretokenizers: [...splits, { type: "ByteLevel", add_prefix_space: false, trim_offsets: false, use_regex: false }],
  };
  const model: HfBpeModel = {
    type: "BPE",
    vocab: vocabObject(vocab.tokens),
    merges: mergePairs(vocab.merges),
    unk_token: null,
    byte_fallback: false,
    ignore_merges: ignoreMerges,
    fuse_unk: false,
    dropout: null,
    continuing_subword_suffix: null,
    end_of_word_suffix: null,
  };
  return { version: "1.0", added_tokens: [], normalizer: null, pre_tokenizer: preTokenizer, model, post_processor: null, decoder: null };
}

/**
 * "left right" strings → pairs. As in llama.cpp the separator is the first space after the first
 * character, and a repeated pair keeps its first (best) rank.
 */
export function mergePairs(merges: string[]): [string, string][] {
  const seen = new Set<string>();
  const pairs: [string, string][] = [];
  for (const merge of merges) {
    const space = merge.indexOf(" ", 1);
    if (space < 0) continue; // llama.cpp files it under ("", ""), which never matches a symbol
    const left = merge.slice(0, space);
    const right = merge.slice(space + 1);
    const key = `${left}\u0000${right}`;
    if (seen.has(key)) continue;
    seen.add(key);
    pairs.push([left, right]);
  }
  return pairs;
}
