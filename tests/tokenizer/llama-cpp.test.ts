// Cross-check against llama.cpp itself (through node-llama-cpp, vocabulary only, CPU): beyond the
// shipped vectors, our ids must equal llama_tokenize(text, add_special=false, parse_special=false) for
// code, numbers, emoji, whitespace runs, CJK, Unicode spaces, user-defined/special-looking tokens and
// pseudo-random strings (fixed seed) mixing all of those; with parse_special=true for texts strewn
// with each vocabulary's special tokens; and decode must equal llama_detokenize.

import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { getLlama, LlamaLogLevel, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeGgufFile } from "../../src/gguf/node-writer.js";
import { modelPath } from "../helpers/env.js";
import { readGgufHeader } from "../../src/gguf/reader.js";
import { bytesSource } from "../../src/gguf/source.js";
import { encodeGgufBytes } from "../../src/gguf/writer.js";
import { createTokenizer, type GgufTokenizer } from "../../src/tokenizer/index.js";
import { SUPPORTED_PRE_TOKENIZERS, preTokenizerFor } from "../../src/tokenizer/pretokenizers.js";
import {
  PARSE_SPECIAL_CASES,
  TIED_SPM_CASES,
  TINY_GEMMA4_CASES,
  VOCAB_NAMES,
  pairVocabMetadata,
  seededRandom,
  tiedSpmMetadata,
  tinyGemma4Metadata,
  tokenizerFor,
  vocabFile,
} from "./fixtures.js";

const EXTRA_TEXTS = [
  "Once upon a time",
  "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n",
  "3.14159 1e-10 0x1F 1,000,000 12345678901234 ١٢٣",
  "  leading\t\ttabs  and   runs     \n\n\n  ",
  "emoji 👨‍👩‍👧‍👦 🇫🇷 🧑🏽‍💻 ❤️ 🦙🦙🦙",
  "日本語のテキスト、中文文本。한국어 텍스트",
  "ideographic\u3000space 我\u3000你 a\u00a0b \u2003x \u200bzero a\u0085b\u2028c",
  "Don'T STOP 'S 'LL I'M we'Re they'd",
  "</s> inside <s> text <|endoftext|> <unk> <|end|> <|assistant|> <fim_prefix>",
  "õ÷ÁýÀ and Äpfel ÿ <｜fim▁hole｜>",
  "x" + " ".repeat(30) + "y" + " ".repeat(60),
  "\r\n\r\nwindows\rlines",
  "مرحبا بالعالم Ελληνικά ΐ Ί ι ℂℍ K Ω µ ﬁ ＡＢＣ",
  "....!!!???,,, `code` ~tilde~ ^caret^ |pipe| $dollar",
  "combining e\u0301 a\u0308, unassigned \u0378, private use \uE000",
];

function pseudoRandomTexts(count: number): string[] {
  const pool = ["a", "Z", " ", "  ", "\n", "\t", "'", "s", "1", "23", "é", "ß", "中", "😀", "🦙", ".", ",", "!",
    "(", "<", "|", "$", "`", "~", "^", "\u3000", "\u00a0", "Ä", "õ", "ж", "ا", "\u200d", "\r", "▁", "RE", "ll"];
  const next = seededRandom(20240611);
  return Array.from({ length: count }, () => {
    let text = "";
    for (let n = 1 + Math.floor(next() * 40); n > 0; n--) text += pool[Math.floor(next() * pool.length)];
    return text;
  });
}

const TEXTS = [...EXTRA_TEXTS, ...pseudoRandomTexts(200)];
const FILES = [...VOCAB_NAMES.map(vocabFile), modelPath("stories260K.gguf")];

let llama: Llama;
let scratchDir: string;
beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.disabled });
  scratchDir = mkdtempSync(join(tmpdir(), "webkv-tokenizer-"));
});
/** llama.cpp's vocabulary-only model of each file, loaded once for the whole test file (large vocabularies take seconds). */
const vocabModels = new Map<string, Promise<LlamaModel>>();
function vocabModel(path: string): Promise<LlamaModel> {
  let model = vocabModels.get(path);
  if (!model) vocabModels.set(path, (model = llama.loadModel({ modelPath: path, vocabOnly: true })));
  return model;
}

afterAll(async () => {
  for (const model of vocabModels.values()) await (await model).dispose();
  await llama?.dispose();
  if (scratchDir) rmSync(scratchDir, { recursive: true, force: true });
});

async function llamaCppTokenize(path: string, texts: string[], parseSpecial = false): Promise<number[][]> {
  const model = await vocabModel(path);
  return texts.map((text) => Array.from(model.tokenize(text, parseSpecial), Number));
}

/** llama_detokenize(ids, remove_special=false, unparse_special=false) of each id list. */
async function llamaCppDetokenize(path: string, idLists: number[][]): Promise<string[]> {
  const model = await vocabModel(path);
  return idLists.map((ids) => model.detokenize(ids as never, false));
}

/** Texts made of pieces of TEXTS with special-looking tokens of the vocabulary ("<...>", "[...]") in between. */
function textsWithSpecialTokens(tokenizer: GgufTokenizer, count: number): string[] {
  const specials: string[] = [];
  for (let id = 0; id < tokenizer.vocabSize; id++) {
    const text = tokenizer.tokenText(id);
    if (/^(<[^<>]+>|\[[^[\]]+\])$/.test(text) && !/^<0x[0-9A-F]{2}>$/.test(text)) specials.push(text);
  }
  const next = seededRandom(7);
  const pick = <T,>(items: readonly T[]) => items[Math.floor(next() * items.length)]!;
  return Array.from({ length: count }, () => {
    let text = "";
    for (let n = 1 + Math.floor(next() * 6); n > 0; n--) {
      text += pick(specials) + (next() < 0.3 ? pick(["\n", " ", "  ", "\n\n"]) : "") + [...pick(TEXTS)].slice(0, Math.floor(next() * 20)).join("");
    }
    return text;
  });
}

describe("same ids as llama.cpp", () => {
  it("stories260K: \"Once upon a time\"", async () => {
    const path = modelPath("stories260K.gguf");
    const tokenizer = await tokenizerFor(path);
    expect(tokenizer.encode("Once upon a time")).toEqual([403, 407, 261, 378]);
    expect(await llamaCppTokenize(path, ["Once upon a time"])).toEqual([[403, 407, 261, 378]]);
    expect(tokenizer.encode("Once upon a time", { addBos: true })).toEqual([1, 403, 407, 261, 378]);
  });

  it("tied-score SPM vocabulary: the pieces spm-ties.test.ts expects", async () => {
    const path = join(scratchDir, "tied-spm.gguf");
    await writeGgufFile(path, tiedSpmMetadata(), []);
    const tokenizer = await tokenizerFor(path);
    const ids = await llamaCppTokenize(path, TIED_SPM_CASES.map(([text]) => text));
    expect(ids.map((row) => row.map((id) => tokenizer.tokenText(id)))).toEqual(TIED_SPM_CASES.map(([, pieces]) => pieces));
  });

  it("tiny gemma4 vocabulary: the pieces gemma4.test.ts expects", async () => {
    const path = join(scratchDir, "tiny-gemma4.gguf");
    await writeGgufFile(path, tinyGemma4Metadata(), []);
    const tokenizer = await tokenizerFor(path);
    const ids = await llamaCppTokenize(path, TINY_GEMMA4_CASES.map(([text]) => text));
    expect(ids.map((row) => row.map((id) => tokenizer.tokenText(id)))).toEqual(TINY_GEMMA4_CASES.map(([, pieces]) => pieces));
    expect(await llamaCppTokenize(path, ["<|turn>a"], true)).toEqual([tokenizer.encode("<|turn>a", { parseSpecial: true })]);
  });

  it("parse_special: the ids parse-special.test.ts expects", async () => {
    for (const { vocab, text, ids } of PARSE_SPECIAL_CASES) {
      expect(await llamaCppTokenize(vocabFile(vocab), [text], true), `${vocab}: ${text}`).toEqual([ids]);
    }
  });

  for (const path of FILES) {
    it(`${path.split("/").pop()}: 100 texts with special tokens, parse_special on and off`, async () => {
      const tokenizer = await tokenizerFor(path);
      const texts = textsWithSpecialTokens(tokenizer, 100);
      for (const parseSpecial of [true, false]) {
        const expected = await llamaCppTokenize(path, texts, parseSpecial);
        const mismatches = texts.flatMap((text, i) => {
          const got = tokenizer.encode(text, { parseSpecial });
          return got.join(" ") === expected[i]!.join(" ") ? [] : [{ parseSpecial, text, expected: expected[i]!.join(" "), got: got.join(" ") }];
        });
        expect(mismatches).toEqual([]);
      }
    });

    it(`${path.split("/").pop()}: decode equals llama_detokenize`, async () => {
      const tokenizer = await tokenizerFor(path);
      // Two deliberate differences are left out. llama.cpp's clean_up_tokenization_spaces (on for most BPE
      // vocabularies) drops the space in " ." or " 's"; our decode gives the text back as it was. And
      // llama.cpp removes SPM's added space only when the very first id renders it, not after a leading
      // BOS or control token; our decode removes it from the first text (so BOS + text decodes to the text).
      const idLists = [...TEXTS, ...textsWithSpecialTokens(tokenizer, 50)]
        .map((text) => tokenizer.encode(text, { parseSpecial: true }))
        .filter((ids) => ids.length > 0 && tokenizer.decode(ids.slice(0, 1)) !== "" && !/ [?!.,']/.test(tokenizer.decode(ids)));
      expect(idLists.length).toBeGreaterThan(10); // stories260K keeps the fewest: 18
      const expected = await llamaCppDetokenize(path, idLists);
      const mismatches = idLists.flatMap((ids, i) => {
        const got = tokenizer.decode(ids);
        return got === expected[i] ? [] : [{ ids: ids.join(" "), expected: expected[i], got }];
      });
      expect(mismatches).toEqual([]);
    });

    it(`${path.split("/").pop()}: BOS, EOS, add-BOS default and end-of-generation ids`, async () => {
      const tokenizer = await tokenizerFor(path);
      const model = await vocabModel(path);
      // (llama.cpp's BPE default BOS/EOS id 11 when the keys are absent is left out on purpose: vocab.ts)
      expect([tokenizer.bosId ?? 11, tokenizer.eosId ?? 11]).toEqual([model.tokens.bos ?? 11, model.tokens.eos ?? 11]);
      expect(tokenizer.addBosDefault && tokenizer.bosId !== undefined).toBe(model.tokens.shouldPrependBosToken);
      expect(tokenizer.addEosDefault).toBe(model.tokens.shouldAppendEosToken);
      const endOfGeneration = (isEnd: (id: number) => boolean) =>
        Array.from({ length: tokenizer.vocabSize }, (_, id) => id).filter(isEnd);
      expect(endOfGeneration(tokenizer.isEndOfGeneration)).toEqual(endOfGeneration((id) => model.isEogToken(id as never)));
    });

    it(`${path.split("/").pop()}: ${TEXTS.length} extra texts`, async () => {
      const tokenizer = await tokenizerFor(path);
      const expected = await llamaCppTokenize(path, TEXTS);
      const mismatches = TEXTS.flatMap((text, i) => {
        const got = tokenizer.encode(text);
        return got.join(" ") === expected[i]!.join(" ") ? [] : [{ text, expected: expected[i]!.join(" "), got: got.join(" ") }];
      });
      expect(mismatches).toEqual([]);
    });
  }
});

// Every distinct pre-tokenizer we support (one name per group of aliases), including those without a
// shipped vocab file, on a synthetic vocabulary whose ids reveal where the text was split.
describe("same pre-tokenizer splits as llama.cpp", () => {
  const texts = [...EXTRA_TEXTS, ...pseudoRandomTexts(100)];
  const firstNameOfSpec = new Map<string, string>();
  for (const pre of SUPPORTED_PRE_TOKENIZERS) {
    const spec = JSON.stringify(preTokenizerFor(pre));
    if (!firstNameOfSpec.has(spec)) firstNameOfSpec.set(spec, pre);
  }
  // Every name, aliases included, on a few texts that tell the specs apart: a name llama.cpp does not
  // know fails to load, one mapped to the wrong regex gives other ids, and add_bos must agree.
  it(`all ${SUPPORTED_PRE_TOKENIZERS.length} names: known to llama.cpp, same splits and add-BOS default`, async () => {
    const shortTexts = ["Hello World's 1234567 don'T ÄBc\n\n  x.y!?/\n", "e\u0301t\u00e9 中文 ١٢ \t a\u3000b"];
    for (const pre of SUPPORTED_PRE_TOKENIZERS) {
      const metadata = pairVocabMetadata(pre, shortTexts, { withBos: true });
      const path = join(scratchDir, `alias-${pre}.gguf`);
      await writeGgufFile(path, metadata, []);
      const tokenizer = createTokenizer(await readGgufHeader(bytesSource(encodeGgufBytes(metadata, []))));
      const model = await llama.loadModel({ modelPath: path, vocabOnly: true });
      try {
        const expected = shortTexts.map((text) => Array.from(model.tokenize(text, false), Number));
        expect(shortTexts.map((text) => tokenizer.encode(text)), pre).toEqual(expected);
        expect(tokenizer.addBosDefault, pre).toBe(model.tokens.shouldPrependBosToken);
      } finally {
        await model.dispose();
      }
    }
  });

  for (const pre of firstNameOfSpec.values()) {
    it(pre, async () => {
      const metadata = pairVocabMetadata(pre, texts);
      const path = join(scratchDir, `pre-${pre}.gguf`);
      await writeGgufFile(path, metadata, []);
      const tokenizer = createTokenizer(await readGgufHeader(bytesSource(encodeGgufBytes(metadata, []))));
      const expected = await llamaCppTokenize(path, texts);
      const mismatches = texts.flatMap((text, i) => {
        const got = tokenizer.encode(text);
        return got.join(" ") === expected[i]!.join(" ") ? [] : [{ text, expected: expected[i]!.join(" "), got: got.join(" ") }];
      });
      expect(mismatches).toEqual([]);
    });
  }
});
