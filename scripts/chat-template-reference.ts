// Writes tests/engine/chat-template-reference.json: the test conversations (tests/engine/chat-cases.ts)
// rendered by Python's jinja2 as transformers' apply_chat_template renders them
// (scripts/chat-template-reference.py). Run: npx tsx scripts/chat-template-reference.ts (needs python3 with jinja2).
// bos_token / eos_token are read straight from the GGUF metadata here, not through webkv's chat code.

import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileSource } from "../src/gguf/node-source.js";
import { readGgufHeader } from "../src/gguf/reader.js";
import { chatCases } from "../tests/engine/chat-cases.js";
import { vocabDir } from "../tests/helpers/env.js";

const root = resolve(import.meta.dirname, "..");
const cases = [];
for (const c of chatCases()) {
  const source = await fileSource(join(vocabDir, c.file));
  const { metadata } = await readGgufHeader(source);
  await source.close?.();
  const tokens = metadata.get("tokenizer.ggml.tokens") as string[];
  const textOf = (key: string) => (metadata.has(key) ? tokens[metadata.get(key) as number]! : "");
  cases.push({
    id: c.id,
    template: metadata.get("tokenizer.chat_template"),
    bos_token: textOf("tokenizer.ggml.bos_token_id"),
    eos_token: textOf("tokenizer.ggml.eos_token_id"),
    messages: c.messages,
    add_generation_prompt: c.addGenerationPrompt,
    variables: c.variables,
  });
}
const output = execFileSync("python3", [join(root, "scripts/chat-template-reference.py")], { input: JSON.stringify({ cases }), encoding: "utf8" });
writeFileSync(join(root, "tests/engine/chat-template-reference.json"), output);
console.log(`${cases.length} renderings written with jinja2 ${JSON.parse(output).jinja2}`);
