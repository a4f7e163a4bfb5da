// The subset of Hugging Face's tokenizer.json that our conversions produce.
// @huggingface/tokenizers takes this object (and a tokenizer_config.json object) in its constructor;
// its own type declarations are not exported, so the shape we rely on is spelled out here.

export type HfPattern = { String: string } | { Regex: string };

export type HfNormalizer =
  | { type: "Sequence"; normalizers: HfNormalizer[] }
  | { type: "Prepend"; prepend: string }
  | { type: "Replace"; pattern: HfPattern; content: string };

export type HfPreTokenizer =
  | { type: "Sequence"; pretokenizers: HfPreTokenizer[] }
  | { type: "Split"; pattern: HfPattern; behavior: "Isolated"; invert: false }
  | { type: "ByteLevel"; add_prefix_space: false; trim_offsets: false; use_regex: false };

export interface HfBpeModel {
  type: "BPE";
  /** Token text → id. Built on a null-prototype object so that a token named "__proto__" is kept. */
  vocab: Record<string, number>;
  merges: [string, string][];
  unk_token: string | null;
  byte_fallback: boolean;
  ignore_merges: boolean;
  fuse_unk: false;
  dropout: null;
  continuing_subword_suffix: null;
  end_of_word_suffix: null;
}

export interface HfTokenizerJson {
  version: "1.0";
  added_tokens: [];
  normalizer: HfNormalizer | null;
  pre_tokenizer: HfPreTokenizer | null;
  model: HfBpeModel;
  post_processor: null;
  decoder: null;
}

/** Vocabulary object where, as in llama.cpp's token_to_id, a repeated text maps to its last id. */
export function vocabObject(tokens: string[]): Record<string, number> {
  const vocab: Record<string, number> = Object.create(null);
  tokens.forEach((text, id) => (vocab[text] = id));
  return vocab;
}
