// A tokenizer built from the vocabulary inside a GGUF file, giving the same token ids as llama.cpp.
//
// Encoding: user-defined tokens (and, with parseSpecial, control tokens) are cut out of the text first
// (partition.ts), then each remaining piece of text goes through a Hugging Face tokenizer
// (@huggingface/tokenizers) whose tokenizer.json we derive from the GGUF vocabulary: spm.ts for
// "llama" vocabularies, bpe.ts for "gpt2" ones, gemma4.ts for BPE over "▁"-marked text ("gemma4").
// Decoding does not use the library: each id maps to the bytes llama.cpp's token_to_piece gives
// (pieces.ts), and UTF-8 decoding happens once those bytes are joined.
//
// Runs unchanged in Node and in the browser: no node: imports here.

import { BPE, Tokenizer } from "@huggingface/tokenizers";
import { GgufError } from "../gguf/errors.js";
import { concatBytes } from "../util/concat.js";
import type { GgufHeader } from "../gguf/types.js";
import { bpeTokenizerJson } from "./bpe.js";
import { createGemma4Encoder } from "./gemma4.js";
import type { HfTokenizerJson } from "./hf-json.js";
import { createPartitioner, type Partitioner } from "./partition.js";
import { createPieceTable } from "./pieces.js";
import { resolveSpecialTokens, tokensCutFromText } from "./special.js";
import { pairKey, spmTokenizerJson } from "./spm.js";
import { readVocab, type GgufVocab } from "./vocab.js";

export interface StreamDecoder {
  /** Text completed by this token; bytes of a character that is still incomplete wait for the next push. */
  push(id: number): string;
  /** Whatever is still pending (an incomplete character becomes U+FFFD); the decoder can then be reused. */
  flush(): string;
}

export interface GgufTokenizer {
  readonly vocabSize: number;
  /** tokenizer.ggml.bos_token_id (SPM vocabularies without the key: 1, as in llama.cpp). */
  readonly bosId: number | undefined;
  /** tokenizer.ggml.eos_token_id (SPM vocabularies without the key: 2, as in llama.cpp). */
  readonly eosId: number | undefined;
  /**
   * tokenizer.ggml.add_bos_token; when absent llama.cpp's default: true for SPM and for BPE with the
   * llama3, tekken or gemma4 pre-tokenizers. Always true for gemma4, as llama.cpp forces it.
   */
  readonly addBosDefault: boolean;
  /** tokenizer.ggml.add_eos_token; false when absent. */
  readonly addEosDefault: boolean;
  /**
   * Token ids of `text`. BOS first only when `addBos` is set, EOS last only when `addEos` is set.
   * User-defined tokens in the text always become their ids; control tokens (e.g. "<|im_start|>",
   * "<|turn>") only with `parseSpecial`, as llama_tokenize(..., parse_special=true) does.
   */
  encode(text: string, options?: EncodeOptions): number[];
  /** Text of `ids`: BOS, EOS and control tokens render as nothing; SPM's added leading space is removed. */
  decode(ids: number[]): string;
  /** Incremental decoding for streaming; pieces are rendered exactly (no leading-space removal). */
  createStreamDecoder(): StreamDecoder;
  /** EOS, EOT, EOM and the other tokens llama.cpp treats as end of generation. */
  isEndOfGeneration(id: number): boolean;
  /** The raw vocabulary text of a token. */
  tokenText(id: number): string;
}

export interface EncodeOptions {
  addBos?: boolean;
  addEos?: boolean;
  parseSpecial?: boolean;
}

export function createTokenizer(header: GgufHeader): GgufTokenizer {
  const vocab = readVocab(header);
  const { attrs, endOfGeneration } = resolveSpecialTokens(vocab);
  const encodeText = textEncoder(vocab);
  const pieceTable = createPieceTable(vocab.spaceMarks, vocab.tokens, attrs);
  const { tokens, bosId, eosId } = vocab;
  const partitioners: Partial<Record<"plain" | "special", Partitioner>> = {};
  const partitionerFor = (parseSpecial: boolean) =>
    (partitioners[parseSpecial ? "special" : "plain"] ??= createPartitioner(tokens, attrs, tokensCutFromText(tokens, attrs, parseSpecial)));
  const requireId = (id: number | undefined, key: string, role: string): number => {
    if (id === undefined) throw new GgufError("missing_key", `GGUF metadata "tokenizer.ggml.${key}" is missing: cannot add ${role}`);
    return id;
  };

  const checkId = (id: number) => {
    if (!Number.isInteger(id) || id < 0 || id >= tokens.length) {
      throw new RangeError(`token id ${id} is outside the vocabulary (0..${tokens.length - 1})`);
    }
  };
  const pieceOf = (id: number) => (checkId(id), pieceTable(id));

  return {
    vocabSize: tokens.length,
    bosId,
    eosId,
    addBosDefault: vocab.addBos,
    addEosDefault: vocab.addEos,

    encode(text, options) {
      const ids: number[] = [];
      if (options?.addBos) ids.push(requireId(bosId, "bos_token_id", "BOS"));
      for (const fragment of partitionerFor(options?.parseSpecial === true)(text)) {
        if (fragment.id !== undefined) ids.push(fragment.id);
        else for (const id of encodeText(fragment.text)) ids.push(id);
      }
      if (options?.addEos) ids.push(requireId(eosId, "eos_token_id", "EOS"));
      return ids;
    },

    decode(ids) {
      const kept = ids.filter((id) => id !== bosId && id !== eosId).map(pieceOf).filter((piece) => piece.length > 0);
      // llama.cpp's detokenizer drops the space that add_space_prefix put before the first word.
      if (vocab.addSpacePrefix && kept[0]?.[0] === 0x20) kept[0] = kept[0].subarray(1);
      return new TextDecoder().decode(concatBytes(kept));
    },

    createStreamDecoder() {
      const utf8 = new TextDecoder();
      return {
        push: (id) => utf8.decode(pieceOf(id), { stream: true }),
        flush: () => utf8.decode(),
      };
    },

    isEndOfGeneration: (id) => endOfGeneration.has(id),

    tokenText: (id) => (checkId(id), tokens[id]!),
  };
}

/** Plain text (no special tokens in it) → ids, by vocabulary kind. */
function textEncoder(vocab: GgufVocab): (text: string) => number[] {
  if (vocab.family === "bpe" && vocab.spaceMarks) return createGemma4Encoder(vocab);
  const tokenizer = vocab.family === "spm" ? spmTokenizer(vocab) : hfTokenizer(bpeTokenizerJson(vocab));
  return (text) => tokenizer.encode(text, { add_special_tokens: false }).ids;
}

function hfTokenizer(json: HfTokenizerJson): Tokenizer {
  // The second argument is tokenizer_config.json; nothing in it matters for encoding text.
  return new Tokenizer(json, { clean_up_tokenization_spaces: false });
}

/**
 * The SPM tokenizer, with equal-score merges sharing a rank. llama.cpp merges the highest score
 * first and, on equal scores, the leftmost pair; the library's BPE orders candidates by rank plus a
 * fraction for the position, so pairs of equal rank are taken leftmost first — the same rule —
 * but a merges list can only give each pair its own rank. Equal scores are common (llama's
 * whitespace-run tokens all score -1e9), so we install the shared ranks on the model directly.
 */
function spmTokenizer(vocab: GgufVocab): Tokenizer {
  const { json, ranks } = spmTokenizerJson(vocab);
  const tokenizer = hfTokenizer(json);
  const model = tokenizer.model;
  const first = json.model.merges[0];
  // Guard against a library version that keys its ranks differently.
  if (!(model instanceof BPE) || (first && model.bpe_ranks.get(pairKey(first[0], first[1])) !== 0)) {
    throw new Error("@huggingface/tokenizers: unexpected BPE rank layout; SPM merges cannot be installed");
  }
  model.bpe_ranks = ranks;
  return tokenizer;
}

