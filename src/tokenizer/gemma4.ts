// BPE over SentencePiece-style text (tokenizer.ggml.model = "gemma4", or pre = "gemma4") → a text encoder.
//
// llama.cpp (llama-vocab.cpp, LLAMA_VOCAB_PRE_TYPE_GEMMA4) tokenizes a piece of raw text like this:
//   1. replace every " " with "▁" (escape_whitespaces);
//   2. split it into runs of newlines and runs of anything else ("[^\n]+|[\n]+");
//   3. a newline run that is itself a token becomes that token;
//   4. otherwise start from the run's UTF-8 characters (not GPT-2 byte symbols) and merge adjacent
//      symbols by rank in tokenizer.ggml.merges, lowest rank first, leftmost first on equal rank;
//   5. emit each result's token, or, for one that is not a token, its bytes as <0xXX> tokens.
// Steps 1, 4 and 5 are a Hugging Face Replace normalizer and a BPE model with byte_fallback; steps 2
// and 3 are done here, because the library's ignore_merges would look up every run, not only newlines.

import { Tokenizer } from "@huggingface/tokenizers";
import { mergePairs } from "./bpe.js";
import type { HfBpeModel, HfTokenizerJson } from "./hf-json.js";
import { vocabObject } from "./hf-json.js";
import { preTokenizerFor } from "./pretokenizers.js";
import type { GgufVocab } from "./vocab.js";

const SPACE_MARK = "▁"; // U+2581

export function gemma4TokenizerJson(vocab: GgufVocab): HfTokenizerJson {
  const model: HfBpeModel = {
    type: "BPE",
    vocab: vocabObject(vocab.tokens),
    merges: mergePairs(vocab.merges),
    unk_token: null, // llama.cpp drops a byte that has no <0xXX> token
    byte_fallback: true,
    ignore_merges: false,
    fuse_unk: false,
    dropout: null,
    continuing_subword_suffix: null,
    end_of_word_suffix: null,
  };
  return {
    version: "1.0",
    added_tokens: [],
    normalizer: { type: "Replace", pattern: { String: " " }, content: SPACE_MARK },
    pre_tokenizer: null,
    model,
    post_processor: null,
    decoder: null,
  };
}

/** Raw text → token ids, for one piece of text between special tokens. */
export function createGemma4Encoder(vocab: GgufVocab): (text: string) => number[] {
  const tokenizer = new Tokenizer(gemma4TokenizerJson(vocab), { clean_up_tokenization_spaces: false });
  const [runs] = preTokenizerFor(vocab.pre).regexes; // "[^\n]+|[\n]+", valid as a JavaScript regex too
  const splitRuns = new RegExp(runs!, "gu");
  const idOfText = new Map<string, number>();
  vocab.tokens.forEach((text, id) => idOfText.set(text, id)); // last wins, as llama.cpp's token_to_id

  return (text) => {
    const ids: number[] = [];
    for (const [run] of text.matchAll(splitRuns)) {
      const whole = run[0] === "\n" ? idOfText.get(run) : undefined;
      if (whole !== undefined) ids.push(whole);
      else for (const id of tokenizer.encode(run, { add_special_tokens: false }).ids) ids.push(id);
    }
    return ids;
  };
}
