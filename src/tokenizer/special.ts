// Token attributes after llama.cpp's fix-ups, and the two things they decide:
//   - which tokens are cut out of raw text before tokenizing (user-defined tokens are, even when
//     special-token parsing is off; control and unknown tokens only when it is on), and
//   - which tokens end generation.
// GGUF stores only a token type per token; llama.cpp (llama-vocab.cpp, end of impl::load) upgrades
// "control-looking" texts to control and sets strip flags for a few models. We replay those rules.

import { TokenType, type SpecialTokenVocab } from "./vocab.js";

/** Bit flags, as llama_token_attr in llama.h. */
export const Attr = {
  undefined: 0,
  unknown: 1 << 0,
  unused: 1 << 1,
  normal: 1 << 2,
  control: 1 << 3,
  userDefined: 1 << 4,
  byte: 1 << 5,
  lstrip: 1 << 7,
  rstrip: 1 << 8,
} as const;

const ATTR_OF_TYPE: Record<number, number> = {
  [TokenType.normal]: Attr.normal,
  [TokenType.unknown]: Attr.unknown,
  [TokenType.control]: Attr.control,
  [TokenType.userDefined]: Attr.userDefined,
  [TokenType.unused]: Attr.unused,
  [TokenType.byte]: Attr.byte,
};

// Texts llama.cpp recognises when the matching id key is absent; a match becomes a control token.
const DETECTED_BY_TEXT: ReadonlyArray<{ keys: string[]; texts: string[] }> = [
  {
    keys: ["eot_token_id"],
    texts: ["<|eot_id|>", "<|im_end|>", "<|end|>", "<end_of_turn>", "<|endoftext|>", "<|end_of_text|>",
      "<EOT>", "_<EOT>", "[EOT]", "<｜end▁of▁sentence｜>", "<end_of_utterance>"],
  },
  { keys: ["eom_token_id"], texts: ["<|eom_id|>"] },
  {
    keys: ["fim_pre_token_id", "prefix_token_id"],
    texts: ["<|fim_prefix|>", "<fim-prefix>", "<fim_prefix>", "<｜fim▁begin｜>", "<PRE>", "▁<PRE>", "<|code_prefix|>", "<|prefix|>"],
  },
  {
    keys: ["fim_suf_token_id", "suffix_token_id"],
    texts: ["<|fim_suffix|>", "<fim-suffix>", "<fim_suffix>", "<｜fim▁hole｜>", "<SUF>", "▁<SUF>", "<|code_suffix|>", "<|suffix|>"],
  },
  {
    keys: ["fim_mid_token_id", "middle_token_id"],
    texts: ["<|fim_middle|>", "<fim-middle>", "<fim_middle>", "<｜fim▁end｜>", "<MID>", "▁<MID>", "<|code_middle|>", "<|middle|>"],
  },
  { keys: ["fim_pad_token_id"], texts: ["<|fim_pad|>", "<fim-pad>", "<fim_pad>", "<PAD>", "[PAD]"] },
  { keys: ["fim_rep_token_id"], texts: ["<|fim_repo|>", "<|repo_name|>", "<fim-repo>", "<REPO>", "<reponame>"] },
  { keys: ["fim_sep_token_id"], texts: ["<|file_sep|>"] },
];

// Texts that end generation whatever the metadata says (llama.cpp's special_eog_ids list).
const END_OF_GENERATION_TEXTS = new Set([
  "<|eot_id|>", "<|im_end|>", "<|end|>", "<|return|>", "<|call|>", "<|flush|>", "<|calls|>", "<end_of_turn>",
  "<|endoftext|>", "</s>", "<|eom_id|>", "<EOT>", "_<EOT>", "[EOT]", "[EOS]", "<|end_of_text|>",
  "<end_of_utterance>", "<eos>", "<turn|>", "<|tool_response>", "<｜end▁of▁sentence｜>", "[e~[",
]);

// gpt-oss renders these even though they are control tokens in the file.
const ALWAYS_USER_DEFINED = new Set(["<|channel|>", "<|message|>", "<|start|>", "<|constrain|>"]);

export interface SpecialTokens {
  /** llama_token_attr of every token. */
  attrs: Uint16Array;
  /** Ids that end generation. */
  endOfGeneration: Set<number>;
}

export function resolveSpecialTokens(vocab: SpecialTokenVocab): SpecialTokens {
  const { tokens } = vocab;
  const attrs = new Uint16Array(tokens.length);
  for (let id = 0; id < tokens.length; id++) attrs[id] = ATTR_OF_TYPE[vocab.types[id]!] ?? Attr.undefined;

  const idOfText = new Map<string, number>();
  tokens.forEach((text, id) => idOfText.set(text, id)); // last wins, as llama.cpp's token_to_id
  const markControl = (id: number) => (attrs[id]! |= Attr.control);

  // Role detection by text. llama.cpp takes the first match in hash order; with several matches
  // for one role we mark them all, which only differs for vocabularies that carry duplicates.
  const roleIds = new Map<string, number[]>();
  for (const { keys, texts } of DETECTED_BY_TEXT) {
    const given = keys.map((key) => vocab.optionalIds.get(key)).find((id) => id !== undefined);
    const found = given !== undefined ? [given] : texts.flatMap((text) => idOfText.get(text) ?? []);
    if (given === undefined) found.forEach(markControl);
    roleIds.set(keys[0]!, found);
  }

  const endOfGeneration = new Set<number>();
  for (const role of ["fim_pad_token_id", "fim_rep_token_id", "fim_sep_token_id"]) {
    roleIds.get(role)?.forEach((id) => endOfGeneration.add(id));
  }
  for (const text of END_OF_GENERATION_TEXTS) {
    const id = idOfText.get(text);
    if (id === undefined) continue;
    endOfGeneration.add(id);
    markControl(id);
  }
  for (const id of [vocab.eosId, ...(roleIds.get("eot_token_id") ?? []), ...(roleIds.get("eom_token_id") ?? [])]) {
    if (id !== undefined) endOfGeneration.add(id);
  }
  // Harmony (gpt-oss) and solar-open use <|end|> between messages, not at the end of generation.
  const has = (text: string) => idOfText.has(text);
  const endId = idOfText.get("<|end|>");
  if (endId !== undefined && has("<|call|>") && (has("<|return|>") || has("<|flush|>"))) {
    endOfGeneration.delete(endId);
    attrs[endId] = Attr.userDefined;
  }
  // Gemma 4 (and paddleocr) use </s> inside tool responses.
  const closeId = idOfText.get("</s>");
  if (closeId !== undefined && has("<|tool_response>")) {
    endOfGeneration.delete(closeId);
    attrs[closeId] = Attr.normal;
  }

  for (const text of ALWAYS_USER_DEFINED) {
    const id = idOfText.get(text);
    if (id !== undefined) attrs[id] = Attr.userDefined;
  }

  applyStripRules(vocab, attrs, idOfText);
  return { attrs, endOfGeneration };
}

// Per-model strip flags: whitespace next to these tokens is swallowed when they are cut out of text.
function applyStripRules(vocab: SpecialTokenVocab, attrs: Uint16Array, idOfText: Map<string, number>): void {
  const setFlag = (text: string, flag: number, on: boolean) => {
    const id = idOfText.get(text);
    if (id !== undefined) attrs[id] = on ? attrs[id]! | flag : attrs[id]! & ~flag;
  };
  const name = vocab.modelName.toLowerCase();
  if (/jina-v2-(de|es|code)/.test(vocab.pre) || /nomic-bert-moe|jina-bert-v3/.test(vocab.architecture)) {
    setFlag("<mask>", Attr.lstrip, true);
  } else if (name.includes("phi-3") || name.includes("phi3")) {
    const special = Attr.control | Attr.userDefined | Attr.unknown;
    for (let id = 0; id < attrs.length; id++) if (attrs[id]! & special) attrs[id]! |= Attr.rstrip;
    setFlag("</s>", Attr.rstrip, true);
    for (const text of ["<unk>", "<s>", "<|endoftext|>"]) setFlag(text, Attr.rstrip, false);
  } else if (name.includes("modern-bert")) {
    setFlag("[MASK]", Attr.lstrip, true);
  }
}

/**
 * Tokens cut out of raw text before tokenizing, longest first (llama.cpp's tokenizer_st_partition):
 * with special-token parsing off only user-defined ones; with it on (parse_special, as chat templates
 * need) control and unknown tokens as well, so "<|im_start|>" or "<|turn>" in the text becomes one id.
 */
export function tokensCutFromText(tokens: string[], attrs: Uint16Array, parseSpecial: boolean): number[] {
  const utf8 = new TextEncoder();
  const special = Attr.control | Attr.unknown;
  const ids: number[] = [];
  for (let id = 0; id < tokens.length; id++) {
    const attr = attrs[id]!;
    if (parseSpecial ? attr & (special | Attr.userDefined) : attr & Attr.userDefined && !(attr & special)) ids.push(id);
  }
  // llama.cpp sorts its special-token cache by byte length, longest first; ties keep id order here.
  const byteLength = new Map(ids.map((id) => [id, utf8.encode(tokens[id]!).length]));
  return ids.sort((a, b) => byteLength.get(b)! - byteLength.get(a)! || a - b);
}
