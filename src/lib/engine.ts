// The public engine: createEngine() loads a model into a worker (or the main thread) and returns an object
// with an OpenAI-shaped chat.completions.create, a token iterator, the memory report, the KV block map and
// unload. Every call is a message to the host (transport.ts); nothing here touches the GPU.

import type { ChatMessage } from "../engine/chat-template.js";
import type { MemorySnapshot } from "../gpu/memory.js";
import type { CoreLoadRequest, LoadInfo, MemoryReport, RunResult } from "./core.js";
import { AbortedError, BadRequestError } from "./errors.js";
import type { KvMap } from "./kv-map.js";
import type { LoadProgress } from "./progress.js";
import { EventStream } from "./stream.js";
import { Transport } from "./transport.js";

export interface EngineOptions extends Omit<CoreLoadRequest, "model"> {
  /** A URL (http(s), or a path on this origin), a File/Blob, or a catalog name (CATALOG). */
  model: string | Blob;
  onProgress?: (progress: LoadProgress) => void;
  /** Run in a dedicated Web Worker (default true); false runs the engine on this thread. */
  worker?: boolean;
}

export interface GenerateOptions {
  maxTokens?: number;
  temperature?: number;
  topK?: number;
  topP?: number;
  seed?: number;
  signal?: AbortSignal;
}

export interface GeneratedToken {
  id: number;
  /** The token's piece of text as streamed (bytes of a split character wait for the rest). */
  text: string;
}

/** A run's token counts and the prefill/decode split. */
export interface GenerateSummary {
  finish_reason: "stop" | "length";
  prompt_tokens: number;
  completion_tokens: number;
  prefill_ms: number;
  decode_ms: number;
  prefill_tok_s: number;
  decode_tok_s: number;
}

/** The tokens as they come; `summary` settles when the run ends (rejects like the iteration). */
export interface GenerateStream extends AsyncIterableIterator<GeneratedToken> {
  readonly summary: Promise<GenerateSummary>;
}

export interface ChatCompletionRequest {
  messages: ChatMessage[];
  stream?: boolean;
  max_tokens?: number;
  temperature?: number;
  top_p?: number;
  top_k?: number;
  seed?: number;
  stop?: string | string[];
  signal?: AbortSignal;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number };
}

/** webkv's additions to a completion: the prefill/decode split of this request. */
export interface WebkvRunDetails {
  prefilled_tokens: number;
  prefill_ms: number;
  decode_ms: number;
  prefill_tok_s: number;
  decode_tok_s: number;
}

export interface ChatCompletion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  choices: { index: 0; message: { role: "assistant"; content: string }; finish_reason: "stop" | "length" }[];
  usage: Usage;
  webkv: WebkvRunDetails;
}

export interface ChatCompletionChunk {
  id: string;
  object: "chat.completion.chunk";
  created: number;
  model: string;
  choices: { index: 0; delta: { role?: "assistant"; content?: string }; finish_reason: "stop" | "length" | null }[];
  /** On the last chunk only. */
  usage?: Usage;
  webkv?: WebkvRunDetails;
}

function usageOf(result: RunResult): Usage {
  const { prompt_tokens, completion_tokens, total_tokens, cached_tokens } = result.usage;
  return { prompt_tokens, completion_tokens, total_tokens, prompt_tokens_details: { cached_tokens } };
}

function detailsOf(result: RunResult): WebkvRunDetails {
  return { prefilled_tokens: result.usage.prefilled_tokens, ...result.timings };
}

export class WebkvEngine {
  readonly chat: {
    completions: { create: WebkvEngine["createCompletion"] };
    /** Drops the conversation the engine keeps between completions (its KV blocks are freed). */
    reset(): Promise<void>;
  };
  private nextCompletion = 1;

  /** @internal use createEngine() */
  constructor(
    private readonly transport: Transport,
    /** The model, the adapter and the load time. */
    readonly info: LoadInfo,
  ) {
    this.chat = {
      completions: { create: this.createCompletion.bind(this) as WebkvEngine["createCompletion"] },
      reset: () => this.transport.call<void>("resetChat", {}).result,
    };
  }

  /** Streams `{ id, text }` per generated token for a text prompt (or token ids, used as given). */
  generate(prompt: string | number[], options: GenerateOptions = {}): GenerateStream {
    const { signal, ...sampling } = options;
    const stream = new EventStream<GeneratedToken>();
    if (signal?.aborted) {
      stream.fail(new AbortedError());
      const summary = Promise.reject(new AbortedError());
      summary.catch(() => undefined);
      return Object.assign(stream, { summary });
    }
    const { id, result } = this.transport.call<RunResult>("generate", { prompt, ...sampling }, { onToken: (token, text) => stream.push({ id: token, text }) });
    const onAbort = () => this.transport.abort(id);
    signal?.addEventListener("abort", onAbort, { once: true });
    const settled = result.finally(() => signal?.removeEventListener("abort", onAbort));
    settled.then(
      () => stream.end(),
      (error) => stream.fail(error),
    );
    const summary = settled.then((done): GenerateSummary => ({
      finish_reason: done.finishReason,
      prompt_tokens: done.usage.prompt_tokens,
      completion_tokens: done.usage.completion_tokens,
      ...done.timings,
    }));
    summary.catch(() => undefined); // the iteration reports the error; an unread summary must not
    return Object.assign(stream, { summary });
  }

  private createCompletion(request: ChatCompletionRequest & { stream: true }): Promise<AsyncIterableIterator<ChatCompletionChunk>>;
  private createCompletion(request: ChatCompletionRequest & { stream?: false }): Promise<ChatCompletion>;
  private createCompletion(request: ChatCompletionRequest): Promise<ChatCompletion | AsyncIterableIterator<ChatCompletionChunk>>;
  private async createCompletion(request: ChatCompletionRequest): Promise<ChatCompletion | AsyncIterableIterator<ChatCompletionChunk>> {
    if (request.signal?.aborted) throw new AbortedError();
    if (!Array.isArray(request.messages)) throw new BadRequestError("messages must be an array of { role, content }");
    const completionId = `chatcmpl-webkv-${this.nextCompletion++}`;
    const created = Math.floor(Date.now() / 1000);
    const model = this.info.model.name;
    const args = {
      messages: request.messages.map(({ role, content }) => ({ role, content })),
      maxTokens: request.max_tokens,
      temperature: request.temperature,
      topP: request.top_p,
      topK: request.top_k,
      seed: request.seed,
      stop: typeof request.stop === "string" ? [request.stop] : request.stop,
    };
    const chunk = (delta: ChatCompletionChunk["choices"][0]["delta"], finish: "stop" | "length" | null): ChatCompletionChunk => ({
      id: completionId, object: "chat.completion.chunk", created, model, choices: [{ index: 0, delta, finish_reason: finish }],
    });
    const stream = new EventStream<ChatCompletionChunk>();
    let first = true;
    const { id, result } = this.transport.call<RunResult>("chat", args, {
      onToken: request.stream
        ? (_token, text) => {
            if (!text) return;
            stream.push(chunk(first ? { role: "assistant", content: text } : { content: text }, null));
            first = false;
          }
        : undefined,
    });
    const onAbort = () => this.transport.abort(id);
    request.signal?.addEventListener("abort", onAbort, { once: true });
    const settled = result.finally(() => request.signal?.removeEventListener("abort", onAbort));
    if (!request.stream) {
      const done = await settled;
      return {
        id: completionId, object: "chat.completion", created, model,
        choices: [{ index: 0, message: { role: "assistant", content: done.text }, finish_reason: done.finishReason }],
        usage: usageOf(done),
        webkv: detailsOf(done),
      };
    }
    settled.then(
      (done) => {
        stream.push({ ...chunk({}, done.finishReason), usage: usageOf(done), webkv: detailsOf(done) });
        stream.end();
      },
      (error) => stream.fail(error),
    );
    return stream;
  }

  /** GPU memory: measured per category (live, peak), the estimator's prediction, the adapter's limits. */
  memory(): Promise<MemoryReport> {
    return this.transport.call<MemoryReport>("memory", {}).result;
  }

  /** The KV cache's block map now. */
  kv(): Promise<KvMap> {
    return this.transport.call<KvMap>("kv", {}).result;
  }

  /** Frees every GPU buffer and the device, then ends the worker. Returns the live bytes left (all 0). */
  async unload(): Promise<MemorySnapshot> {
    const left = await this.transport.call<MemorySnapshot>("unload", {}).result;
    this.transport.close();
    return left;
  }
}

/** Loads a model and returns the engine (in a dedicated worker unless `worker: false`). */
export async function createEngine(options: EngineOptions): Promise<WebkvEngine> {
  const { onProgress, worker = true, ...load } = options;
  const transport = worker ? Transport.worker() : await Transport.mainThread();
  try {
    const info = await transport.call<LoadInfo>("load", load, { onProgress }).result;
    return new WebkvEngine(transport, info);
  } catch (error) {
    transport.close();
    throw error;
  }
}
