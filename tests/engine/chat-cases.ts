// The fixed conversations of the chat-template tests, shared with scripts/chat-template-reference.ts
// (which renders them with Python's jinja2 into tests/engine/chat-template-reference.json).

import type { ChatMessage } from "../../src/engine/chat-template.js";

export const CONVERSATION: ChatMessage[] = [
  { role: "system", content: "You are a concise assistant." },
  { role: "user", content: "Hi! What's the capital of France?" },
  { role: "assistant", content: "Paris." },
  { role: "user", content: "And of Italy?\nOne word, please." },
];
export const WITHOUT_SYSTEM = CONVERSATION.slice(1);

/** The shared vocab files that carry a chat template, and whether their template keeps system messages. */
export const TEMPLATED: Record<string, { system: boolean }> = {
  "ggml-vocab-gemma-4.gguf": { system: true },
  "ggml-vocab-phi-3.gguf": { system: false },
  "ggml-vocab-qwen2.gguf": { system: true },
  "ggml-vocab-qwen35.gguf": { system: true },
};

export interface ChatCase {
  id: string;
  file: string;
  messages: ChatMessage[];
  addGenerationPrompt: boolean;
  variables: { enable_thinking: boolean };
}

/** Each templated file × generation prompt on/off × enable_thinking false/true, with the longest conversation it accepts. */
export function chatCases(): ChatCase[] {
  return Object.entries(TEMPLATED).flatMap(([file, { system }]) =>
    [true, false].flatMap((addGenerationPrompt) =>
      [false, true].map((thinking) => ({
        id: `${file} generation_prompt=${addGenerationPrompt} enable_thinking=${thinking}`,
        file,
        messages: system ? CONVERSATION : WITHOUT_SYSTEM,
        addGenerationPrompt,
        variables: { enable_thinking: thinking },
      })),
    ),
  );
}
