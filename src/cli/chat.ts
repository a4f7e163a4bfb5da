// webkv chat: an interactive conversation in the terminal with a chat model, through its own template.
// Replies stream as they are sampled; Ctrl-C stops the reply (the program goes on), Ctrl-C or Ctrl-D at
// the prompt ends it. The conversation keeps its KV cache between turns, so each turn prefills only its new
// tokens; the counts are shown after each reply. Also the one-shot form, `webkv run --messages FILE.json`.

import { readFile } from "node:fs/promises";
import { createInterface } from "node:readline";
import type { KvReport } from "../app/runtime.js";
import { CHAT_ROLES, type ChatMessage } from "../engine/chat-template.js";
import type { ChatStopReason, ChatTurnResult } from "../engine/chat.js";
import type { RuntimeHost } from "../harness/host.js";
import { withModelInBrowser } from "./browser-model.js";
import { BROWSER_OPTIONS, MODEL_OPTIONS, SAMPLING_OPTIONS, intOption, parse, samplingFrom, UsageError } from "./options.js";

export const CHAT_USAGE = `webkv chat --model <path|url|name> [--system TEXT] [--max-tokens N] [--temperature T] [--top-k K]
           [--top-p P] [--seed S] [--context N] [--kv FMT] [...model options as for run]`;

export interface ChatTurnReply {
  output_ids: number[];
  text: string;
  stop_reason: ChatStopReason;
  usage: ChatTurnResult["usage"];
  timings: { prefill_ms: number; decode_ms: number; prefill_tok_s: number; decode_tok_s: number };
  kv: KvReport;
}

/** A messages file: [{role, content}, …] or {"messages": [...]}, roles system/user/assistant, content a string. */
export async function readMessagesFile(path: string): Promise<ChatMessage[]> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (error as Error).message;
    throw new UsageError(`--messages ${path}: ${reason}`);
  }
  const list = Array.isArray(parsed) ? parsed : (parsed as { messages?: unknown })?.messages;
  if (!Array.isArray(list) || list.length === 0) throw new UsageError(`--messages ${path}: expected a non-empty array of {role, content} (or {"messages": [...]})`);
  return list.map((m, i) => {
    const { role, content } = (m ?? {}) as { role?: unknown; content?: unknown };
    if (typeof role !== "string" || !(CHAT_ROLES as readonly string[]).includes(role)) {
      throw new UsageError(`--messages ${path}: message ${i} has role ${JSON.stringify(role)}; roles are ${CHAT_ROLES.join(", ")}`);
    }
    if (typeof content !== "string") throw new UsageError(`--messages ${path}: message ${i} has no string content`);
    return { role: role as ChatMessage["role"], content };
  });
}

export function describeTurn(reply: ChatTurnReply): string {
  const u = reply.usage;
  return `${u.prompt_tokens} prompt tokens (${u.cached_tokens} cached, ${u.prefilled_tokens} prefilled), ` +
    `${u.completion_tokens} generated (${reply.stop_reason}) · prefill ${reply.timings.prefill_tok_s.toFixed(1)} tok/s · ` +
    `decode ${reply.timings.decode_tok_s.toFixed(1)} tok/s`;
}

/** One turn on an open conversation, streaming the reply's text through `out`. */
export async function chatTurn(
  session: RuntimeHost, modelId: number, chatId: number, messages: ChatMessage[], options: Record<string, unknown>, out?: (text: string) => void,
): Promise<ChatTurnReply> {
  const unsubscribe = out ? session.onEvent((event) => event.type === "token" && out(event.text)) : () => undefined;
  try {
    return await session.call<ChatTurnReply>("chatTurn", { modelId, chatId, messages, stream: out !== undefined, ...options });
  } finally {
    unsubscribe();
  }
}

export async function chatCommand(argv: string[], out: (text: string) => void, err: (text: string) => void): Promise<number> {
  const { values } = parse(argv, {
    ...BROWSER_OPTIONS, ...MODEL_OPTIONS, ...SAMPLING_OPTIONS,
    system: { type: "string" },
    "max-tokens": { type: "string", short: "n" },
  });
  if (values.json) throw new UsageError("--json is for one-shot chats: webkv run --messages FILE.json --json");
  const options = { maxTokens: intOption(values, "max-tokens", 1, 512)!, ...samplingFrom(values) };
  return withModelInBrowser(values, async ({ session, loaded, onInterrupt: setInterruptHandler }) => {
    const { chatId } = await session.call<{ chatId: number }>("chatOpen", { modelId: loaded.modelId });
    const messages: ChatMessage[] = typeof values.system === "string" ? [{ role: "system", content: values.system }] : [];
    const terminal = createInterface({ input: process.stdin, output: process.stdin.isTTY ? process.stdout : undefined, terminal: process.stdin.isTTY });
    let replying = false;
    let quit = false;
    // Ctrl-C: during a reply it stops the reply; at the prompt it ends the chat.
    const onInterrupt = () => {
      if (replying) {
        void session.call("chatStop", { modelId: loaded.modelId, chatId }).catch(() => undefined);
      } else {
        quit = true;
        terminal.close();
      }
    };
    terminal.on("SIGINT", onInterrupt);
    setInterruptHandler(onInterrupt);
    err(`chat with a ${loaded.config.architecture} model; Ctrl-C stops a reply, Ctrl-D or Ctrl-C at the prompt quits\n`);
    const prompt = () => process.stdin.isTTY && out("> ");
    try {
      prompt();
      // The line iterator buffers input that arrives while a reply is streaming (piped conversations).
      for await (const line of terminal) {
        if (quit) break;
        if (line.trim() === "") {
          prompt();
          continue;
        }
        messages.push({ role: "user", content: line });
        replying = true;
        const reply = await chatTurn(session, loaded.modelId, chatId, messages, options, out).finally(() => (replying = false));
        out("\n");
        messages.push({ role: "assistant", content: reply.text });
        err(`[${describeTurn(reply)}]\n`);
        prompt();
      }
    } finally {
      setInterruptHandler(undefined);
      terminal.close();
    }
    return 0;
  });
}
