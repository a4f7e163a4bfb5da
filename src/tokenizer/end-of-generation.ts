// The ids that end generation, read from a GGUF header the way llama.cpp builds its EOG set
// (llama-vocab.cpp, end of impl::load): EOS, EOT and EOM, the FIM pad/repo/separator tokens, and every
// token whose text is a known end marker (<|im_end|>, <|eot_id|>, <|end|>, <end_of_turn>, <turn|>, ...),
// with llama.cpp's exceptions (gpt-oss's <|end|>, Gemma 4's </s>). The rules live in special.ts; this
// entry point works for any tokenizer model, also those webkv cannot tokenize with.

import type { GgufHeader } from "../gguf/types.js";
import { resolveSpecialTokens } from "./special.js";
import { readSpecialTokenVocab } from "./vocab.js";

/** Every end-of-generation id of the vocabulary, ascending. */
export function endOfGenerationIds(header: GgufHeader): number[] {
  const { endOfGeneration } = resolveSpecialTokens(readSpecialTokenVocab(header));
  return [...endOfGeneration].sort((a, b) => a - b);
}
