// Pre-tokenizer regexes for byte-level BPE, chosen by tokenizer.ggml.pre.
// Each entry mirrors a LLAMA_VOCAB_PRE_TYPE_* case of llm_tokenizer_bpe in llama-vocab.cpp: a list of
// regexes applied one after another, each splitting every piece left by the previous one into the
// matches and the text between them. That is exactly a Hugging Face Sequence of Split pre-tokenizers
// with behavior "Isolated", followed by ByteLevel (without its own regex) to map bytes to symbols.
//
// Two places where we write the regex differently from llama-vocab.cpp, to get llama.cpp's result:
//   - llama.cpp runs the GPT-2/llama3/qwen2 regexes through hand-written matchers
//     (unicode_regex_split_custom_*) that also split off a final lone whitespace run; the regex
//     needs the trailing "|\s+" to say so, as in the original tokenizer.json files.
//   - Regexes without \p{..} run in std::wregex on text where every non-ASCII whitespace character
//     was first replaced by U+000B, so literal ranges such as [ࠀ-一] never match, say, U+3000.
//     We guard those ranges with (?!\s) to keep whitespace out of them.

import { GgufError } from "../gguf/errors.js";

export interface PreTokenizerSpec {
  /** Regexes in Oniguruma syntax, as a tokenizer.json would hold them. */
  regexes: string[];
  /** Look each whole piece up in the vocabulary before merging (llama3: ignore_merges). */
  ignoreMerges: boolean;
  /** llama.cpp turns add_bos on for these when tokenizer.ggml.add_bos_token is absent. */
  addBos: boolean;
  /** ... or even when the key says false (llama.cpp's Gemma 4 workaround). */
  forceBos: boolean;
  /**
   * SentencePiece-style BPE (gemma4): spaces become "▁", merges run on raw UTF-8 characters rather
   * than GPT-2 byte symbols, and bytes missing from the vocabulary fall back to <0xXX> tokens.
   */
  spaceMarks: boolean;
}

// 's|'t|... | letters | numbers | other symbols | whitespace not followed by text | whitespace
const GPT2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

// llama3: case-insensitive contractions, a letter run may take one leading non-letter, numbers in
// groups of up to three, symbols keep trailing newlines, newline runs keep leading whitespace.
const LLAMA3 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}|" +
  " ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// qwen2: as llama3 but every digit on its own.
const QWEN2 = LLAMA3.replace("\\p{N}{1,3}", "\\p{N}");

// qwen35: as qwen2, but letter runs also take combining marks (\p{M}), which symbol runs leave out.
const QWEN35 =
  "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}|" +
  " ?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";

// Letter runs split at case changes (tekken, gpt-4o). The original tokenizer.json classes
// (\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M} / \p{Ll}\p{Lm}\p{Lo}\p{M}) are written the way llama.cpp runs them:
// "a letter that is not a-z" and "a letter that is not A-Z", so every non-ASCII letter counts as
// both cases and combining marks are not letters.
const NOT_LOWER = "((?=[\\p{L}])([^a-z]))";
const NOT_UPPER = "((?=[\\p{L}])([^A-Z]))";
const CONTRACTION = "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])";
const caseRuns = (suffix: string) =>
  `[^\\r\\n\\p{L}\\p{N}]?${NOT_LOWER}*${NOT_UPPER}+${suffix}|[^\\r\\n\\p{L}\\p{N}]?${NOT_LOWER}+${NOT_UPPER}*${suffix}`;
const CASE_RUNS_TAIL = " ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
// tekken (Mistral Nemo and later Mistral models): single digits.
const TEKKEN = `${caseRuns("")}|\\p{N}|${CASE_RUNS_TAIL}`;
// gpt-4o (also llama4): contractions stay on the word, numbers in groups of up to three.
const GPT4O = `${caseRuns(CONTRACTION + "?")}|\\p{N}{1,3}|${CASE_RUNS_TAIL}`;

// A character class that, like llama.cpp's wregex path, never matches whitespace.
const noSpace = (charClass: string) => `(?:(?!\\s)${charClass})`;

// CJK ideographs and Hangul (deepseek). The middle range ࠀ-一 spans several whitespace characters.
const CJK = noSpace("[\\u4E00-\\u9FA5\\u0800-\\u4E00\\uAC00-\\uD7FF]") + "+";

// deepseek-llm's letter class, copied from its tokenizer.json: Latin, Greek, Cyrillic, Armenian,
// Georgian, Cherokee, ... letters that take an optional leading whitespace character.
const DEEPSEEK_LETTERS =
  "\\s?[A-Za-z\\u00B5\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u01BA\\u01BC-\\u01BF\\u01C4-\\u0293\\u0295-\\u02AF\\u0370-\\u0373\\u0376\\u0377\\u037B-\\u037D\\u037F\\u0386\\u0388-\\u038A\\u038C\\u038E-\\u03A1\\u03A3-\\u03F5\\u03F7-\\u0481\\u048A-\\u052F\\u0531-\\u0556\\u10A0-\\u10C5\\u13A0-\\u13F5\\u13F8-\\u13FD\\u1C90-\\u1CBA\\u1CBD-\\u1CBF\\u1D00-\\u1D2B\\u1D6B-\\u1D77\\u1D79-\\u1D9A\\u1E00-\\u1F15\\u1F18-\\u1F1D\\u1F20-\\u1F45\\u1F48-\\u1F4D\\u1F50-\\u1F57\\u1F59\\u1F5B\\u1F5D\\u1F5F-\\u1F7D\\u1F80-\\u1FB4\\u1FB6-\\u1FBC\\u1FBE\\u1FC2-\\u1FC4\\u1FC6-\\u1FCC\\u1FD0-\\u1FD3\\u1FD6-\\u1FDB\\u1FE0-\\u1FEC\\u1FF2-\\u1FF4\\u1FF6-\\u1FFC\\u2102\\u2107\\u210A-\\u2113\\u2115\\u2119-\\u211D\\u2124\\u2126\\u2128\\u212A-\\u212D\\u212F-\\u2134\\u2139\\u213C-\\u213F\\u2145-\\u2149\\u214E\\u2183\\u2184\\u2C00-\\u2C7B\\u2C7E-\\u2CE4\\u2CEB-\\u2CEE\\u2CF2\\u2CF3\\uA640-\\uA66D\\uA680-\\uA69B\\uA722-\\uA76F\\uA771-\\uA787\\uA78B-\\uA78E\\uAB70-\\uABBF\\uFB00-\\uFB06\\uFB13-\\uFB17\\uFF21-\\uFF3A\\uFF41-\\uFF5A\\u{10400}-\\u{1044F}\\u{104B0}-\\u{104D3}\\u{104D8}-\\u{104FB}\\u{10C80}-\\u{10CB2}\\u{10CC0}-\\u{10CF2}\\u{118A0}-\\u{118DF}\\u{1E900}-\\u{1E943}]+";
// ASCII and full-width punctuation, curly quotes, ideographic space to full stop.
const DEEPSEEK_PUNCT = "\\s?" + noSpace("[!-/:-~\\uFF01-\\uFF0F\\uFF1A-\\uFF5E\\u2018-\\u201F\\u3000-\\u3002]") + "+";

// poro/bloom: an optional space and anything up to whitespace or sentence punctuation (… 。 ， 、 । ۔ ،).
const UP_TO_PUNCT = " ?[^(\\s|.,!?\\u2026\\u3002\\uFF0C\\u3001\\u0964\\u06D4\\u060C)]+";

const spec = (regexes: string[], flags: Partial<Omit<PreTokenizerSpec, "regexes">> = {}): PreTokenizerSpec => ({
  regexes,
  ignoreMerges: flags.ignoreMerges ?? false,
  addBos: flags.addBos ?? false,
  forceBos: flags.forceBos ?? false,
  spaceMarks: flags.spaceMarks ?? false,
});

const GPT2_SPEC = spec([GPT2]);
const STARCODER_SPEC = spec(["\\p{N}", GPT2]);
const LLAMA3_SPEC = spec([LLAMA3], { ignoreMerges: true, addBos: true });
const QWEN2_SPEC = spec([QWEN2]);
const GPT4O_SPEC = spec([GPT4O]);
// gemma4: only newline runs are split off; the rest of a line is merged as one piece (gemma4.ts).
const GEMMA4_SPEC = spec(["[^\\n]+|[\\n]+"], { spaceMarks: true, addBos: true, forceBos: true });

/** tokenizer.ggml.pre → regexes, grouped as in llama_vocab::impl::load. */
const PRE_TOKENIZERS: Record<string, PreTokenizerSpec> = {
  // LLAMA_VOCAB_PRE_TYPE_DEFAULT: punctuation runs, GPT-2 split, digit runs, then groups of three digits.
  default: spec(["[\\p{P}\\$\\+<=>\\^~\\|]+", GPT2, "\\p{N}+", "[0-9][0-9][0-9]"]),
  // LLAMA_VOCAB_PRE_TYPE_GPT2 / MPT / OLMO / JAIS / TRILLION / GRANITE_DOCLING
  "gpt-2": GPT2_SPEC,
  "phi-2": GPT2_SPEC,
  "jina-es": GPT2_SPEC,
  "jina-de": GPT2_SPEC,
  "jina-v2-es": GPT2_SPEC,
  "jina-v2-de": GPT2_SPEC,
  gigachat: GPT2_SPEC,
  "a.x-4.0": GPT2_SPEC,
  mellum: GPT2_SPEC,
  "modern-bert": GPT2_SPEC,
  mpt: GPT2_SPEC,
  olmo: GPT2_SPEC,
  jais: GPT2_SPEC,
  exaone4: GPT2_SPEC,
  trillion: GPT2_SPEC,
  "granite-docling": GPT2_SPEC,
  // LLAMA_VOCAB_PRE_TYPE_STARCODER / REFACT / COMMAND_R / SMOLLM / CODESHELL / EXAONE / MINERVA: digits alone first.
  starcoder: STARCODER_SPEC,
  refact: STARCODER_SPEC,
  "command-r": STARCODER_SPEC,
  smollm: STARCODER_SPEC,
  codeshell: STARCODER_SPEC,
  exaone: STARCODER_SPEC,
  "minerva-7b": STARCODER_SPEC,
  mellum2: STARCODER_SPEC,
  // LLAMA_VOCAB_PRE_TYPE_FALCON: punctuation runs (backquote included), GPT-2 split, groups of three digits.
  falcon: spec(["[\\p{P}\\$\\+<=>\\^~\\|`]+", GPT2, "[0-9][0-9][0-9]"]),
  // LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_LLM: newlines alone, letter runs, punctuation runs, trailing whitespace, CJK, numbers.
  "deepseek-llm": spec(["[\\r\\n]", DEEPSEEK_LETTERS, DEEPSEEK_PUNCT, "\\s+\\z", CJK, "\\p{N}+"]),
  // LLAMA_VOCAB_PRE_TYPE_DEEPSEEK_CODER: newlines alone, letter runs, punctuation runs, CJK, single digits.
  "deepseek-coder": spec(["[\\r\\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", CJK, "\\p{N}"]),
  // LLAMA_VOCAB_PRE_TYPE_LLAMA3 (whole pieces found in the vocabulary skip merging; BOS by default)
  llama3: LLAMA3_SPEC,
  "llama-v3": LLAMA3_SPEC,
  "llama-bpe": LLAMA3_SPEC,
  falcon3: LLAMA3_SPEC,
  "falcon-h1": LLAMA3_SPEC,
  pixtral: LLAMA3_SPEC,
  "midm-2.0": LLAMA3_SPEC,
  lfm2: LLAMA3_SPEC,
  "jina-v5-nano": LLAMA3_SPEC,
  // LLAMA_VOCAB_PRE_TYPE_DBRX / SMAUG / CHATGLM4: the llama3 regex with ordinary merging.
  dbrx: spec([LLAMA3]),
  "smaug-bpe": spec([LLAMA3]),
  "chatglm-bpe": spec([LLAMA3]),
  glm4: spec([LLAMA3]),
  // LLAMA_VOCAB_PRE_TYPE_QWEN2 / STABLELM2 / HUNYUAN / SOLAR_OPEN (and grok-2, whose regex is the same)
  qwen2: QWEN2_SPEC,
  "deepseek-r1-qwen": QWEN2_SPEC,
  kormo: QWEN2_SPEC,
  f2llmv2: QWEN2_SPEC,
  megrez: QWEN2_SPEC,
  stablelm2: QWEN2_SPEC,
  hunyuan: QWEN2_SPEC,
  "solar-open": QWEN2_SPEC,
  "grok-2": QWEN2_SPEC,
  // LLAMA_VOCAB_PRE_TYPE_QWEN35: letter runs keep their combining marks.
  qwen35: spec([QWEN35]),
  // LLAMA_VOCAB_PRE_TYPE_TEKKEN (Mistral Nemo): case-split letter runs, single digits, llama3-style merging and BOS.
  tekken: spec([TEKKEN], { ignoreMerges: true, addBos: true }),
  // LLAMA_VOCAB_PRE_TYPE_GPT4O / MINIMAX_M2
  "gpt-4o": GPT4O_SPEC,
  llama4: GPT4O_SPEC,
  kanana2: GPT4O_SPEC,
  talkie: GPT4O_SPEC,
  "minimax-m2": GPT4O_SPEC,
  // LLAMA_VOCAB_PRE_TYPE_GEMMA4 (also what tokenizer.ggml.model = "gemma4" implies)
  gemma4: GEMMA4_SPEC,
  "granite-embed-multi-311m": GEMMA4_SPEC,
  // LLAMA_VOCAB_PRE_TYPE_PORO / BLOOM / GPT3_FINNISH: anything up to whitespace or sentence punctuation.
  "poro-chat": spec([UP_TO_PUNCT]),
  bloom: spec([UP_TO_PUNCT]),
  "gpt3-finnish": spec([UP_TO_PUNCT]),
  viking: spec([UP_TO_PUNCT, "\\p{N}"]),
};

/** Every tokenizer.ggml.pre value this runtime handles. */
export const SUPPORTED_PRE_TOKENIZERS: readonly string[] = Object.keys(PRE_TOKENIZERS);

/** The spec of a known tokenizer.ggml.pre value; undefined for one this runtime does not know. */
export function findPreTokenizer(pre: string): PreTokenizerSpec | undefined {
  return Object.hasOwn(PRE_TOKENIZERS, pre) ? PRE_TOKENIZERS[pre] : undefined;
}

export function preTokenizerFor(pre: string): PreTokenizerSpec {
  const found = findPreTokenizer(pre);
  if (!found) {
    throw new GgufError(
      "bad_metadata",
      `GGUF metadata "tokenizer.ggml.pre" is "${pre}", a pre-tokenizer this runtime does not know; ` +
        `known: ${SUPPORTED_PRE_TOKENIZERS.join(", ")}`,
    );
  }
  return found;
}
