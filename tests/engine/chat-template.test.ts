// Chat templates against two outside renderings, for every shared vocab file that carries
// tokenizer.chat_template and a fixed multi-turn conversation (system, user, assistant, user):
//   - llama.cpp through node-llama-cpp (vocabulary only, CPU): its JinjaTemplateChatWrapper's context for
//     the next reply, tokenized by llama.cpp with special tokens — same text, same token ids;
//   - Python's jinja2 set up as transformers' apply_chat_template (chat-template-reference.json, written by
//     scripts/chat-template-reference.ts), generation prompt on and off, enable_thinking off and on.
// node-llama-cpp opens the reply by rendering an empty assistant turn rather than add_generation_prompt;
// the two agree except where a template's generation prompt writes more than that: Gemma 4 with thinking
// off opens an empty thought channel, which jinja2 (and llama.cpp's --jinja server, which passes
// add_generation_prompt) render and node-llama-cpp does not.
// The end-of-generation ids equal llama.cpp's EOG set for every vocab file. Then the named errors.

import { readdirSync } from "node:fs";
import { join } from "node:path";
import { getLlama, JinjaTemplateChatWrapper, LlamaLogLevel, SpecialTokensText, type ChatHistoryItem, type Llama, type LlamaModel } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { chatTemplateOf, renderChat, ChatTemplateError, type ChatMessage } from "../../src/engine/chat-template.js";
import type { GgufHeader } from "../../src/gguf/types.js";
import { endOfGenerationIds } from "../../src/tokenizer/end-of-generation.js";
import { vocabDir } from "../helpers/env.js";
import { readHeader } from "../tokenizer/fixtures.js";
import { chatCases, CONVERSATION, TEMPLATED, WITHOUT_SYSTEM } from "./chat-cases.js";
import reference from "./chat-template-reference.json" with { type: "json" };

const VOCAB_FILES = readdirSync(vocabDir).filter((f) => f.endsWith(".gguf")).sort();

/** Each vocab file's header, parsed once for the whole file (the large vocabularies take seconds each). */
const headers = new Map<string, Promise<GgufHeader>>();
function vocabHeader(file: string): Promise<GgufHeader> {
  let parsed = headers.get(file);
  if (!parsed) headers.set(file, (parsed = readHeader(join(vocabDir, file))));
  return parsed;
}

let llama: Llama;
beforeAll(async () => {
  llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.disabled, maxThreads: 1 });
});
/** llama.cpp's vocabulary-only model of each file, loaded once for the whole file and disposed at its end. */
const models = new Map<string, Promise<LlamaModel>>();
afterAll(async () => {
  for (const model of models.values()) await (await model).dispose();
  await llama?.dispose();
});

async function withModel<T>(file: string, use: (model: LlamaModel) => T): Promise<T> {
  let model = models.get(file);
  if (!model) models.set(file, (model = llama.loadModel({ modelPath: join(vocabDir, file), vocabOnly: true })));
  return use(await model);
}

function chatHistoryOf(messages: ChatMessage[]): ChatHistoryItem[] {
  const history: ChatHistoryItem[] = messages.map((m) =>
    m.role === "assistant" ? { type: "model", response: [m.content] } : { type: m.role, text: m.content },
  );
  return [...history, { type: "model", response: [] }]; // the reply to come: the generation prompt
}

/** node-llama-cpp's rendering of the GGUF's own template: its text, and its token ids from llama.cpp's tokenizer. */
function llamaCppRendering(model: LlamaModel, messages: ChatMessage[], thinking: boolean): { ids: number[]; text: string } {
  const template = model.fileInfo.metadata.tokenizer.chat_template as string;
  const wrapper = new JinjaTemplateChatWrapper({ template, tokenizer: model.tokenizer, reasoning: thinking });
  const { contextText } = wrapper.generateContextState({ chatHistory: chatHistoryOf(messages) });
  const ids = contextText.tokenize(model.tokenizer);
  // The text before tokenization: plain and special-token text as is, BOS/EOS/EOT as their token's text.
  const text = contextText.values
    .map((value) => (typeof value === "string" ? value : value instanceof SpecialTokensText ? value.value : model.detokenize(value.tokenize(model.tokenizer), true)))
    .join("");
  return { ids: ids.map(Number), text };
}

describe("which shared vocab files carry a chat template", () => {
  it("gemma-4, phi-3, qwen2 and qwen35 do; the others do not", async () => {
    const carrying = [];
    for (const file of VOCAB_FILES) if ((await vocabHeader(file)).metadata.has("tokenizer.chat_template")) carrying.push(file);
    expect(carrying).toEqual(Object.keys(TEMPLATED));
  });
});

describe("same rendering as llama.cpp (node-llama-cpp)", () => {
  for (const [file, { system }] of Object.entries(TEMPLATED)) {
    for (const thinking of [false, true]) {
      const messages = system ? CONVERSATION : WITHOUT_SYSTEM;
      it(`${file}: ${messages.length} messages${system ? " with a system prompt" : ""}, generation prompt, enable_thinking ${thinking}`, async () => {
        const header = await vocabHeader(file);
        const ours = renderChat(header, messages, { variables: { enable_thinking: thinking } });
        const extra = file === "ggml-vocab-gemma-4.gguf" && !thinking ? "<|channel>thought\n<channel|>" : "";
        const { expected, oursTokenized, spm } = await withModel(file, (model) => {
          const expected = llamaCppRendering(model, messages, thinking);
          const extraIds = extra ? Array.from(model.tokenize(extra, true), Number) : [];
          const oursTokenized = Array.from(model.tokenize(ours, true), Number);
          return { expected: { text: expected.text + extra, ids: [...expected.ids, ...extraIds] }, oursTokenized, spm: model.vocabularyType === "spm" };
        });
        expect(ours).toBe(expected.text);
        // node-llama-cpp tokenizes each message apart from the template's text. For byte-level BPE that is
        // the whole prompt's tokenization; SentencePiece (phi-3) puts its space prefix differently at
        // the seams (a tokenizer matter the equal texts above already settle), so ids are compared for BPE.
        if (!spm) expect(oursTokenized).toEqual(expected.ids);
        for (const m of messages) expect(ours).toContain(m.content);
      });
    }
  }
});

describe("same rendering as Python's jinja2 (transformers' apply_chat_template)", () => {
  const renderings: Record<string, string> = reference.renderings;
  it("covers every case", () => expect(Object.keys(renderings).sort()).toEqual(chatCases().map((c) => c.id).sort()));
  for (const c of chatCases()) {
    it(c.id, async () => {
      const header = await vocabHeader(c.file);
      expect(renderChat(header, c.messages, { addGenerationPrompt: c.addGenerationPrompt, variables: c.variables })).toBe(renderings[c.id]);
    });
  }
});

describe("the rendering itself", () => {
  it("qwen2: ChatML, the exact text", async () => {
    const header = await vocabHeader("ggml-vocab-qwen2.gguf");
    expect(renderChat(header, CONVERSATION)).toBe(
      "<|im_start|>system\nYou are a concise assistant.<|im_end|>\n" +
        "<|im_start|>user\nHi! What's the capital of France?<|im_end|>\n" +
        "<|im_start|>assistant\nParis.<|im_end|>\n" +
        "<|im_start|>user\nAnd of Italy?\nOne word, please.<|im_end|>\n" +
        "<|im_start|>assistant\n",
    );
    // Without a system message the template adds its default one; without the generation prompt no assistant turn opens.
    expect(renderChat(header, WITHOUT_SYSTEM, { addGenerationPrompt: false })).toBe(
      "<|im_start|>system\nYou are a helpful assistant<|im_end|>\n" +
        "<|im_start|>user\nHi! What's the capital of France?<|im_end|>\n" +
        "<|im_start|>assistant\nParis.<|im_end|>\n" +
        "<|im_start|>user\nAnd of Italy?\nOne word, please.<|im_end|>\n",
    );
  });

  it("phi-3: bos_token is the vocabulary's BOS text", async () => {
    const header = await vocabHeader("ggml-vocab-phi-3.gguf");
    const template = chatTemplateOf(header);
    expect([template.bosToken, template.eosToken]).toEqual(["<s>", "<|endoftext|>"]);
    expect(template.render(WITHOUT_SYSTEM.slice(0, 1))).toBe("<s><|user|>\nHi! What's the capital of France?<|end|>\n<|assistant|>\n");
  });
});

describe("end-of-generation ids", () => {
  for (const file of VOCAB_FILES) {
    it(`${file}: llama.cpp's EOG set`, async () => {
      const ours = endOfGenerationIds(await vocabHeader(file));
      const expected = await withModel(file, (model) => [...model.iterateAllTokens()].filter((id) => model.isEogToken(id)).map(Number));
      expect(ours).toEqual(expected);
    });
  }

  it("gemma-4 (a tokenizer webkv cannot run) still has its stop tokens: <eos>, <|tool_response>, <turn|>", async () => {
    expect(endOfGenerationIds(await vocabHeader("ggml-vocab-gemma-4.gguf"))).toEqual([1, 50, 106]);
  });
});

describe("errors are named, one line", () => {
  const withTemplate = (header: GgufHeader, template: string): GgufHeader => ({
    ...header,
    metadata: new Map(header.metadata).set("tokenizer.chat_template", template),
  });
  const failure = (render: () => unknown): ChatTemplateError => {
    try {
      render();
    } catch (error) {
      expect(error).toBeInstanceOf(ChatTemplateError);
      expect((error as Error).message).not.toContain("\n");
      return error as ChatTemplateError;
    }
    throw new Error("expected a ChatTemplateError");
  };

  it("a file without a template", async () => {
    const header = await vocabHeader("ggml-vocab-llama-spm.gguf");
    const error = failure(() => renderChat(header, CONVERSATION));
    expect(error.code).toBe("no_template");
    expect(error.message).toMatch(/has no chat template \(GGUF metadata "tokenizer.chat_template" is missing\)/);
  });

  it("a template that cannot be parsed, and one that raises", async () => {
    const header = await vocabHeader("ggml-vocab-qwen2.gguf");
    const unparsable = failure(() => renderChat(withTemplate(header, "{% for message in %}{{ message }}"), CONVERSATION));
    expect(unparsable.code).toBe("render_failed");
    expect(unparsable.message).toMatch(/^the chat template of "qwen2" cannot be parsed: /);
    const raising = withTemplate(header,
      "{% for m in messages %}{% if m['role'] == 'system' %}{{ raise_exception('System role not supported\nat all') }}{% endif %}{{ m['content'] }}|{% endfor %}");
    const raised = failure(() => renderChat(raising, CONVERSATION));
    expect(raised.code).toBe("render_failed");
    expect(raised.message).toBe('the chat template of "qwen2" failed to render: System role not supported at all');
    expect(renderChat(raising, WITHOUT_SYSTEM.slice(0, 2))).toBe("Hi! What's the capital of France?|Paris.|");
  });

  it("a role outside system/user/assistant, and a role the template drops (phi-3's system)", async () => {
    const qwen = await vocabHeader("ggml-vocab-qwen2.gguf");
    const tool = failure(() => renderChat(qwen, [...CONVERSATION, { role: "tool", content: "{}" } as unknown as ChatMessage]));
    expect(tool.code).toBe("unsupported_role");
    expect(tool.message).toBe('message 4 has role "tool": the roles are system, user, assistant');

    const phi = await vocabHeader("ggml-vocab-phi-3.gguf");
    const dropped = failure(() => renderChat(phi, CONVERSATION));
    expect(dropped.code).toBe("unsupported_role");
    expect(dropped.message).toBe('the chat template of "Phi3" drops "system" messages: leave that role out of the conversation');
    // node-llama-cpp's own check of the template agrees: no system messages.
    const supportsSystem = await withModel("ggml-vocab-phi-3.gguf", (model) =>
      new JinjaTemplateChatWrapper({ template: model.fileInfo.metadata.tokenizer.chat_template as string }).settings.supportsSystemMessages,
    );
    expect(supportsSystem).toBe(false);
  });
});
