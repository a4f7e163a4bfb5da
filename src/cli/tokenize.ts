// webkv tokenize: ids of a text with the GGUF's own vocabulary. Runs in Node (no GPU needed): the
// tokenizer module is the same one the page uses.

import { readFile } from "node:fs/promises";
import { fileSource } from "../gguf/node-source.js";
import { readGgufHeader } from "../gguf/reader.js";
import { createTokenizer } from "../tokenizer/index.js";
import { resolveModel } from "./models.js";
import { parse, UsageError } from "./options.js";

export const TOKENIZE_USAGE = `webkv tokenize --model M (--text T | --file F | --jsonl F) [--bos] [--json]`;

export async function tokenizeCommand(argv: string[], out: (text: string) => void): Promise<number> {
  const { values } = parse(argv, {
    model: { type: "string", short: "m" },
    text: { type: "string" },
    file: { type: "string" },
    jsonl: { type: "string" },
    bos: { type: "boolean" },
    json: { type: "boolean" },
  });
  const inputs = ["text", "file", "jsonl"].filter((k) => values[k] !== undefined);
  if (inputs.length !== 1) throw new UsageError("give exactly one of --text, --file, --jsonl");
  if (typeof values.model !== "string") throw new UsageError("--model is required");
  const { path } = await resolveModel(values.model);
  const source = await fileSource(path);
  const tokenizer = createTokenizer(await readGgufHeader(source));
  await source.close?.();
  const encode = (text: string) => tokenizer.encode(text, { addBos: values.bos === true });

  if (typeof values.jsonl === "string") {
    const lines = (await readFile(values.jsonl, "utf8")).split("\n");
    lines.forEach((line, i) => {
      if (line.trim() === "") return;
      let text: unknown;
      try {
        text = JSON.parse(line);
      } catch {
        throw new UsageError(`${values.jsonl}:${i + 1}: not JSON`);
      }
      if (typeof text !== "string") throw new UsageError(`${values.jsonl}:${i + 1}: expected a JSON string`);
      out(JSON.stringify(encode(text)) + "\n");
    });
    return 0;
  }
  const text = typeof values.text === "string" ? values.text : await readFile(values.file as string, "utf8");
  const ids = encode(text);
  out((values.json ? JSON.stringify(ids) : ids.join(" ")) + "\n");
  return 0;
}
