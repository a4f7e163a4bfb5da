// Chat: streaming replies through engine.chat.completions.create (or engine.generate for a model without a
// chat template), stop, new chat, system prompt, sampling settings, and per reply the tokens/s with the
// prefill/decode split and how many prompt tokens came from the cache.

import type { ChatMessage } from "webkv";
import { h, labeled } from "../dom.js";
import { number } from "../format.js";
import { showError, clearError, state } from "../state.js";

export function renderChat(root: HTMLElement): void {
  const messages: ChatMessage[] = [];
  const transcript = h("div", { class: "transcript", id: "chat-transcript", "aria-live": "polite" });
  const system = h("textarea", { id: "chat-system", rows: 2, cols: 60, placeholder: "optional system prompt" });
  const input = h("textarea", { id: "chat-input", rows: 3, cols: 60, placeholder: "message (Ctrl+Enter sends)" });
  const temperature = h("input", { id: "chat-temperature", type: "number", step: "0.1", min: "0", value: "0", size: 4 });
  const topP = h("input", { id: "chat-top-p", type: "number", step: "0.05", min: "0.05", max: "1", value: "1", size: 4 });
  const topK = h("input", { id: "chat-top-k", type: "number", min: "0", value: "0", size: 4 });
  const maxTokens = h("input", { id: "chat-max-tokens", type: "number", min: "1", value: "64", size: 5 });
  const seed = h("input", { id: "chat-seed", type: "number", value: "0", size: 5 });
  const send = h("button", { id: "chat-send", type: "submit" }, "Send");
  const stop = h("button", { id: "chat-stop", type: "button", disabled: true }, "Stop");
  const newChat = h("button", { id: "chat-new", type: "button" }, "New chat");
  const stats = h("p", { class: "stats", id: "chat-stats" });
  let controller: AbortController | undefined;

  const line = (role: string, text = "") => {
    const content = h("span", { class: "content" }, text);
    transcript.append(h("div", { class: `message ${role}`, dataset: { role } }, h("span", { class: "role" }, `${role}:`), content));
    transcript.scrollTop = transcript.scrollHeight;
    return content;
  };

  async function reply(): Promise<void> {
    const engine = state.engine;
    if (!engine) return showError(new Error("load a model first (Models)"));
    const text = input.value.trim();
    if (!text) return;
    clearError();
    input.value = "";
    line("user", text);
    messages.push({ role: "user", content: text });
    const out = line("assistant");
    controller = new AbortController();
    stop.disabled = false;
    send.disabled = true;
    state.setBusy(true);
    const sampling = { temperature: Number(temperature.value), seed: Number(seed.value) };
    try {
      if (engine.info.model.hasChatTemplate) {
        const conversation: ChatMessage[] = system.value.trim() ? [{ role: "system", content: system.value.trim() }, ...messages] : [...messages];
        const stream = await engine.chat.completions.create({
          messages: conversation, stream: true, max_tokens: Number(maxTokens.value), top_p: Number(topP.value), top_k: Number(topK.value), ...sampling, signal: controller.signal,
        });
        for await (const chunk of stream) {
          out.textContent += chunk.choices[0]?.delta.content ?? "";
          transcript.scrollTop = transcript.scrollHeight;
          if (chunk.usage && chunk.webkv) {
            const w = chunk.webkv;
            stats.textContent = `${chunk.usage.completion_tokens} tokens, ${number(w.decode_tok_s)} tok/s decode (${number(w.decode_ms, 0)} ms) · prefill ${w.prefilled_tokens} of ${chunk.usage.prompt_tokens} prompt tokens (${chunk.usage.prompt_tokens_details.cached_tokens} cached) in ${number(w.prefill_ms, 0)} ms, ${number(w.prefill_tok_s)} tok/s`;
            stats.dataset.prompt = String(chunk.usage.prompt_tokens);
            stats.dataset.prefilled = String(w.prefilled_tokens);
            stats.dataset.cached = String(chunk.usage.prompt_tokens_details.cached_tokens);
          }
        }
      } else {
        const stream = engine.generate(text, { maxTokens: Number(maxTokens.value), topP: Number(topP.value), topK: Number(topK.value), ...sampling, signal: controller.signal });
        for await (const token of stream) out.textContent += token.text;
        const s = await stream.summary;
        stats.textContent = `${s.completion_tokens} tokens, ${number(s.decode_tok_s)} tok/s decode (${number(s.decode_ms, 0)} ms) · prefill ${s.prompt_tokens} tokens in ${number(s.prefill_ms, 0)} ms, ${number(s.prefill_tok_s)} tok/s (no chat template: plain continuation)`;
      }
      messages.push({ role: "assistant", content: out.textContent ?? "" });
    } catch (error) {
      if ((error as { code?: string }).code === "aborted") {
        stats.textContent = "stopped";
        messages.push({ role: "assistant", content: out.textContent ?? "" });
      } else showError(error);
    } finally {
      stop.disabled = true;
      send.disabled = false;
      controller = undefined;
      state.setBusy(false);
    }
  }

  stop.addEventListener("click", () => controller?.abort());
  newChat.addEventListener("click", async () => {
    controller?.abort();
    messages.length = 0;
    transcript.replaceChildren();
    stats.textContent = "";
    await state.engine?.chat.reset().catch(showError);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      void reply();
    }
  });

  root.append(
    h("div", { class: "row" }, labeled("system prompt", system)),
    h("div", { class: "row" }, labeled("temperature", temperature), labeled("top-p", topP), labeled("top-k", topK), labeled("max tokens", maxTokens), labeled("seed", seed)),
    transcript,
    h("form", { class: "row", onsubmit: (event: Event) => { event.preventDefault(); void reply(); } }, labeled("message", input), send, stop, newChat),
    stats,
  );
}
