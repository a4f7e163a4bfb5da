// The engines bench/peers.ts (and bench/swiftshader-profile.ts) measure side by side, each behind one small
// interface: load a GGUF, prefill a prompt text, decode a number of tokens greedily, report its own rates.
//   webkv       our runtime in the harness page (Chromium, WebGPU)
//   wllama Nt   llama.cpp compiled to WebAssembly (npm @wllama/wllama), N threads, in the same page
//   llama.cpp   native llama.cpp through node-llama-cpp, one thread

import { join } from "node:path";
import type { LoadResult } from "../src/app/runtime.js";
import type { BrowserSession } from "../src/harness/session.js";
import { sharedLlama } from "../tests/reference/llamacpp.js";

const WLLAMA = join(import.meta.dirname, "..", "node_modules", "@wllama", "wllama", "esm");

export interface Measurement {
  load_ms: number;
  prompt_tokens: number;
  prefill_tok_s: number;
  decode_tokens: number;
  decode_tok_s: number;
}

export type RunState = "queued" | "loading" | "prefilling" | "decoding" | "done" | "failed";

export interface Peer {
  name: string;
  run(model: string, promptText: string, context: number, decode: number, setState: (s: RunState) => void, byteTokens?: [number, number]): Promise<Measurement>;
}

export function webkvPeer(session: BrowserSession, name: string, options: Record<string, unknown>): Peer {
  return {
    name,
    async run(model, promptText, context, decode, setState) {
      setState("loading");
      const loaded = await session.call<LoadResult>("load", {
        url: session.publishFile(model), options: { contextSize: context + decode + 8, maxStepTokens: 128, ...options },
      });
      try {
        setState("prefilling");
        const reply = await session.call<{ prompt_ids: number[]; output_ids: number[]; timings: { prefill_ms: number; decode_ms: number } }>(
          "generate", { modelId: loaded.modelId, prompt: promptText, maxTokens: decode, ignoreEos: true },
        );
        setState("done");
        return {
          load_ms: loaded.load_ms,
          prompt_tokens: reply.prompt_ids.length,
          prefill_tok_s: reply.prompt_ids.length / (reply.timings.prefill_ms / 1000),
          decode_tokens: reply.output_ids.length - 1,
          decode_tok_s: (reply.output_ids.length - 1) / (reply.timings.decode_ms / 1000),
        };
      } finally {
        await session.call("unload", { modelId: loaded.modelId });
      }
    },
  };
}

export function wllamaPeer(session: BrowserSession, threads: number): Peer {
  const indexUrl = session.publishFile(join(WLLAMA, "index.js"));
  const wasmUrl = session.publishFile(join(WLLAMA, "wasm", "wllama.wasm"));
  return {
    name: `wllama ${threads}t`,
    async run(model, promptText, context, decode, setState, byteTokens) {
      setState("loading");
      const modelUrl = session.publishFile(model);
      const banned: Record<string, boolean> = {};
      if (byteTokens) for (let id = byteTokens[0]; id < byteTokens[1]; id++) banned[String(id)] = false;
      const result = await session.page.evaluate(
        async ([indexUrl, wasmUrl, modelUrl, threads, nCtx, promptText, decode, banned]) => {
          const { Wllama } = await import(indexUrl as string);
          const wllama = new Wllama({ default: wasmUrl, "single-thread/wllama.wasm": wasmUrl, "multi-thread/wllama.wasm": wasmUrl }, { suppressNativeLog: true, logger: { debug() {}, log() {}, warn() {}, error: console.error } });
          try {
            const start = performance.now();
            await wllama.loadModelFromUrl(modelUrl, { n_threads: threads, n_ctx: nCtx, n_batch: 512, n_gpu_layers: 0, useCache: false });
            const loadMs = performance.now() - start;
            const reply = await wllama.createCompletion({ prompt: promptText, max_tokens: decode, temp: 0, ignore_eos: true, cache_prompt: false, logit_bias: banned });
            return { loadMs, threads: wllama.getNumThreads(), timings: reply.timings };
          } finally {
            await wllama.exit();
          }
        },
        [indexUrl, wasmUrl, modelUrl, threads, context + decode + 8, promptText, decode, banned] as const,
      );
      if (result.threads !== threads) throw new Error(`wllama ran ${result.threads} threads, asked for ${threads}`);
      setState("done");
      const t = result.timings;
      return {
        load_ms: result.loadMs, prompt_tokens: t.prompt_n, prefill_tok_s: t.prompt_per_second,
        decode_tokens: t.predicted_n, decode_tok_s: t.predicted_per_second,
      };
    },
  };
}

export function llamaCppPeer(): Peer {
  return {
    name: "llama.cpp 1t",
    async run(modelPath, promptText, context, decode, setState) {
      setState("loading");
      const llama = await sharedLlama();
      const start = performance.now();
      const model = await llama.loadModel({ modelPath });
      try {
        const contextObject = await model.createContext({ contextSize: context + decode + 8, threads: 1, batchSize: 512 });
        const loadMs = performance.now() - start;
        try {
          const sequence = contextObject.getSequence();
          const ids = model.tokenize(promptText);
          const prompt = model.tokens.shouldPrependBosToken && model.tokens.bos !== null ? [model.tokens.bos, ...ids] : ids;
          setState("prefilling");
          const t0 = performance.now();
          let first = 0;
          let count = 0;
          for await (const _token of sequence.evaluate(prompt, { temperature: 0 })) {
            if (count === 0) {
              first = performance.now();
              setState("decoding");
            }
            if (++count >= decode) break;
          }
          const end = performance.now();
          sequence.dispose();
          setState("done");
          return {
            load_ms: loadMs, prompt_tokens: prompt.length, prefill_tok_s: prompt.length / ((first - t0) / 1000),
            decode_tokens: count - 1, decode_tok_s: (count - 1) / ((end - first) / 1000),
          };
        } finally {
          await contextObject.dispose();
        }
      } finally {
        await model.dispose();
      }
    },
  };
}

/** Prompt texts of `context` tokens (BOS included) by webkv's tokenizer: English cut to length, then detokenized. */
export async function promptTexts(session: BrowserSession, path: string, contexts: number[]): Promise<Map<number, string>> {
  const story = "Once upon a time, there was a little girl named Lily. She loved to play outside in the park with her friends. " +
    "One day, she saw a big red ball under a tree. She ran to get it, but a small dog took it first. Lily laughed and they played together until the sun went down. ";
  const loaded = await session.call<LoadResult>("load", { url: session.publishFile(path), options: { contextSize: 64 } });
  const texts = new Map<number, string>();
  try {
    const storyIds = await session.call<number[]>("tokenize", { modelId: loaded.modelId, text: story });
    for (const context of contexts) {
      const ids: number[] = [];
      while (ids.length < context - 1) ids.push(...storyIds);
      texts.set(context, await session.call<string>("detokenize", { modelId: loaded.modelId, ids: ids.slice(0, context - 1) }));
    }
  } finally {
    await session.call("unload", { modelId: loaded.modelId });
  }
  return texts;
}
