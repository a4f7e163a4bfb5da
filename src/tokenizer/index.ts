// A tokenizer built from the vocabulary inside a GGUF file, giving the same token ids as llama.cpp.
//
// Encoding: user-defined tokens are cut out of the text first (partition.ts), then each remaining
// piece of text goes through a Hugging Face tokenizer (@huggingface/tokenizers) whose tokenizer.json
// we derive from the GGUF vocabulary: spm.ts for "llama" vocabularies, bpe.ts for "gpt2" ones.
// Decoding does not use the library: each id maps to the bytes llama.cpp's token_to_piece gives
// (pieces.ts), and UTF-8 decoding happens once those bytes are joined.
//
// Runs unchanged in Node and in the browser: no node: imports here.

import { BPE, Tokenizer } from "@huggingface/tokenizers";
import { GgufError } from "../gguf/errors.js";
import { concatBytes } from "../util/concat.js";
import type { GgufHeader } from "../gguf/types.js";
import { bpeTokenizerJson } from "./bpe.js";
import type { HfTokenizerJson } from "./hf-json.js";
import { createPartitioner } from "./partition.js";
import { createPieceTable } from "./pieces.js";
import { resolveSpecialTokens, userDefinedTokens } from "./special.js";
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
  /** tokenizer.ggml.add_bos_token; when absent llama.cpp's default: true for SPM and llama3-style BPE. */
  readonly addBosDefault: boolean;
  /** Token ids of `text`, without special-token parsing; BOS first only when `addBos` is set. */
  encode(text: string, options?: { addBos?: boolean }): number[];
  /** Text of `ids`: BOS, EOS and control tokens render as nothing; SPM's added leading space is removed. */
  decode(ids: number[]): string;
  /** Incremental decoding for streaming; pieces are rendered exactly (no leading-space removal). */
  createStreamDecoder(): StreamDecoder;
  /** EOS, EOT, EOM and the other tokens llama.cpp treats as end of generation. */
  isEndOfGeneration(id: number): boolean;
  /** The raw vocabulary text of a token. */
  tokenText(id: number): string;
}

export function createTokenizer(header: GgufHeader): GgufTokenizer {
  const vocab = readVocab(header);
  const { attrs, endOfGeneration } = resolveSpecialTokens(vocab);
  const partition = createPartitioner(vocab.tokens, attrs, userDefinedTokens(vocab.tokens, attrs));
  const hf = vocab.family === "llama" ? spmTokenizer(vocab) : hfTokenizer(bpeTokenizerJson(vocab));
  const pieceTable = createPieceTable(vocab.family, vocab.tokens, attrs);
  const { tokens, bosId, eosId } = vocab;

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

    encode(text, options) {
      const ids: number[] = [];
      if (options?.addBos) {
        if (bosId === undefined) {
          throw new GgufError("missing_key", 'GGUF metadata "tokenizer.ggml.bos_token_id" is missing: cannot add BOS');
        }
        ids.push(bosId);
      }
      for (const fragment of partition(text)) {
        if (fragment.id !== undefined) ids.push(fragment.id);
        else for (const id of hf.encode(fragment.text, { add_special_tokens: false }).ids) ids.push(id);
      }
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

