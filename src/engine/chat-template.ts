// Chat prompts from the model's own template: tokenizer.chat_template (Jinja) rendered with
// @huggingface/jinja the way Hugging Face's apply_chat_template and llama.cpp's --jinja path render it:
// `messages`, `add_generation_prompt`, `bos_token` / `eos_token` as the vocabulary's token texts, and
// `tools` / `documents` set to none (a template that tests `tools is not none` must see none, not
// undefined). trim_blocks and lstrip_blocks are on, as in transformers.
//
// Everything that goes wrong is a ChatTemplateError with a one-line message: no template in the file,
// a template that cannot be parsed or raises while rendering, or a role the template cannot express
// (a role other than system/user/assistant, or one the template silently drops — Phi-3's template
// ignores system messages, which would otherwise lose the system prompt without a word).
//
// The rendered text contains the template's special tokens as text (<|im_start|>, the BOS text when the
// template writes bos_token): tokenize it with special-token parsing and without adding another BOS.
// Runs unchanged in Node and in the browser: no node: imports here.

import { Template } from "@huggingface/jinja";
import { hasKey, metaString } from "../gguf/metadata.js";
import type { GgufHeader } from "../gguf/types.js";
import { readSpecialTokenVocab } from "../tokenizer/vocab.js";

export const CHAT_ROLES = ["system", "user", "assistant"] as const;
export type ChatRole = (typeof CHAT_ROLES)[number];

export interface ChatMessage {
  role: ChatRole;
  content: string;
}

export type ChatTemplateErrorCode = "no_template" | "render_failed" | "unsupported_role";

export class ChatTemplateError extends Error {
  readonly code: ChatTemplateErrorCode;
  constructor(code: ChatTemplateErrorCode, message: string) {
    super(message.replace(/\s*\n\s*/g, " "));
    this.name = "ChatTemplateError";
    this.code = code;
  }
}

export interface ChatRenderOptions {
  /** End with the opening of an assistant turn (default true), as apply_chat_template(add_generation_prompt=True). */
  addGenerationPrompt?: boolean;
  /** More template variables, as apply_chat_template's extra keyword arguments (enable_thinking, date_string, ...). */
  variables?: Record<string, unknown>;
}

export interface ChatTemplate {
  /** The Jinja source, tokenizer.chat_template. */
  readonly source: string;
  /** Text of the vocabulary's BOS and EOS tokens ("" when the file names none), passed as bos_token / eos_token. */
  readonly bosToken: string;
  readonly eosToken: string;
  render(messages: readonly ChatMessage[], options?: ChatRenderOptions): string;
}

const TEMPLATE_KEY = "tokenizer.chat_template";

/** The file's chat template, parsed once; throws ChatTemplateError when there is none or it cannot be parsed. */
export function chatTemplateOf(header: GgufHeader): ChatTemplate {
  const name = modelNameOf(header);
  if (!hasKey(header, TEMPLATE_KEY)) {
    throw new ChatTemplateError("no_template", `${name} has no chat template (GGUF metadata "${TEMPLATE_KEY}" is missing): pass a prompt as plain text`);
  }
  const source = metaString(header, TEMPLATE_KEY);
  let template: Template;
  try {
    template = new Template(source);
  } catch (error) {
    throw new ChatTemplateError("render_failed", `the chat template of ${name} cannot be parsed: ${(error as Error).message}`);
  }
  const vocab = readSpecialTokenVocab(header);
  const textOf = (id: number | undefined) => (id === undefined ? "" : vocab.tokens[id]!);
  const bosToken = textOf(vocab.bosId);
  const eosToken = textOf(vocab.eosId);

  const run = (messages: readonly ChatMessage[], options: ChatRenderOptions): string => {
    try {
      return template.render({
        tools: null,
        documents: null,
        ...options.variables,
        messages: messages.map(({ role, content }) => ({ role, content })),
        add_generation_prompt: options.addGenerationPrompt ?? true,
        bos_token: bosToken,
        eos_token: eosToken,
      });
    } catch (error) {
      throw new ChatTemplateError("render_failed", `the chat template of ${name} failed to render: ${(error as Error).message}`);
    }
  };

  return {
    source,
    bosToken,
    eosToken,
    render(messages, options = {}) {
      checkMessages(messages);
      const text = run(messages, options);
      // Render again with a marker for each content: a message whose marker is missing was dropped.
      const markers = messages.map((_, i) => `webkv${i}marker${messages.length}`);
      const marked = run(messages.map((m, i) => ({ role: m.role, content: markers[i]! })), options);
      const dropped = messages.filter((_, i) => !marked.includes(markers[i]!));
      if (dropped.length > 0) {
        const roles = [...new Set(dropped.map((m) => m.role))].map((r) => `"${r}"`).join(" and ");
        throw new ChatTemplateError("unsupported_role", `the chat template of ${name} drops ${roles} messages: leave that role out of the conversation`);
      }
      return text;
    },
  };
}

/** Renders `messages` with the file's chat template (see chatTemplateOf to render many times). */
export function renderChat(header: GgufHeader, messages: readonly ChatMessage[], options?: ChatRenderOptions): string {
  return chatTemplateOf(header).render(messages, options);
}

function checkMessages(messages: readonly ChatMessage[]): void {
  if (messages.length === 0) throw new ChatTemplateError("render_failed", "a chat needs at least one message");
  messages.forEach((message, i) => {
    if (!(CHAT_ROLES as readonly string[]).includes(message.role)) {
      throw new ChatTemplateError("unsupported_role", `message ${i} has role "${message.role}": the roles are ${CHAT_ROLES.join(", ")}`);
    }
    if (typeof message.content !== "string") {
      throw new ChatTemplateError("render_failed", `message ${i} (${message.role}) has no text content`);
    }
  });
}

function modelNameOf(header: GgufHeader): string {
  const name = header.metadata.get("general.name");
  return typeof name === "string" && name.length > 0 ? `"${name}"` : "this model";
}
