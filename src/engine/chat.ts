// A conversation whose KV cache lives between turns. Each turn renders the whole conversation with the
// model's chat template, tokenizes it, and compares it with the ids already in the cache: the common prefix
// is kept, anything after it is dropped (a template may render an earlier reply differently than it was
// generated), and only the rest is prefilled — so a new turn computes its new tokens only, the way
// llama.cpp's server reuses its prompt cache. Then it decodes until an end-of-generation id, the token
// limit, the context, or a stop request.
//
// With a quantized KV format, blocks are quantized when they fill; the cache is only cut at a block
// boundary there (a cut inside a sealed block would lose the full-precision tail of that block).

import type { ChatMessage, ChatRenderOptions, ChatTemplate } from "./chat-template.js";
import type { Engine, PendingStep } from "./engine.js";
import { ContextOverflowError } from "./engine.js";
import { Sampler, type SamplingOptions } from "./sampler.js";
import { commonPrefixLength } from "./scheduler.js";

export interface ChatTurnOptions extends SamplingOptions {
  maxTokens: number;
  /** Called with each generated id as it is sampled. */
  onToken?: (id: number) => void;
  /** Checked between steps: true ends the reply with stop reason "stopped" (Ctrl-C, AbortSignal). */
  shouldStop?: () => boolean;
  render?: ChatRenderOptions;
}

export type ChatStopReason = "eos" | "max_tokens" | "context_full" | "stopped";

export interface ChatTurnResult {
  /** The generated ids, the end-of-generation id included when there was one. */
  outputIds: number[];
  stopReason: ChatStopReason;
  usage: {
    /** Tokens of the rendered conversation (the prompt of this turn). */
    prompt_tokens: number;
    /** Of those, tokens whose KV was already cached from earlier turns. */
    cached_tokens: number;
    /** Tokens this turn computed before decoding (prompt_tokens − cached_tokens). */
    prefilled_tokens: number;
    completion_tokens: number;
  };
  timings: { prefill_ms: number; decode_ms: number };
}

export interface ChatTokenizer {
  readonly addBosDefault: boolean;
  readonly bosId: number | undefined;
  encode(text: string, options?: { addBos?: boolean; parseSpecial?: boolean }): number[];
}

/**
 * The ids of a rendered conversation: the template's special tokens (<|im_start|>, <start_of_turn>) parsed as
 * single ids, BOS once (the template's or the vocabulary's), no EOS.
 */
export function chatPromptIds(template: ChatTemplate, tokenizer: ChatTokenizer, messages: readonly ChatMessage[], render?: ChatRenderOptions): number[] {
  let text = template.render(messages, render);
  // A template that writes bos_token itself gives the BOS; otherwise the vocabulary's add_bos rule does.
  const templateWritesBos = template.bosToken !== "" && text.startsWith(template.bosToken);
  if (templateWritesBos) text = text.slice(template.bosToken.length);
  const addBos = (templateWritesBos || tokenizer.addBosDefault) && tokenizer.bosId !== undefined;
  return tokenizer.encode(text, { addBos, parseSpecial: true });
}

export class ChatSession {
  private seqId: number;
  /** The ids whose KV the sequence holds, in order. */
  private cached: number[] = [];

  constructor(
    private readonly engine: Engine,
    private readonly template: ChatTemplate,
    private readonly tokenizer: ChatTokenizer,
    private readonly stopIds: ReadonlySet<number>,
  ) {
    this.seqId = engine.sequences.create().id;
  }

  /** Ids in the KV cache now (the conversation so far as the model has seen it). */
  get cachedIds(): readonly number[] {
    return this.cached;
  }

  async turn(messages: readonly ChatMessage[], options: ChatTurnOptions): Promise<ChatTurnResult> {
    const promptIds = chatPromptIds(this.template, this.tokenizer, messages, options.render);
    const sampler = new Sampler(options);
    const contextLength = this.engine.maxSequenceLength;
    if (promptIds.length >= contextLength) {
      throw new ContextOverflowError(`the conversation has ${promptIds.length} tokens, no room left in a context of ${contextLength}`);
    }
    const keep = this.reusableLength(promptIds);
    // When the whole prompt is cached (a regenerated reply), its last token is recomputed for its logits.
    const reused = keep === promptIds.length ? keep - 1 : keep;
    this.engine.sequences.truncate(this.seqId, reused);

    const prefillStart = performance.now();
    let logits = await this.engine.prefill(this.seqId, promptIds.slice(reused), "last");
    /** A greedy reply reads back each step's argmax id, not its logits. */
    let nextId: number | undefined;
    this.cached = [...promptIds];
    const prefillMs = performance.now() - prefillStart;

    const decodeStart = performance.now();
    const outputIds: number[] = [];
    let stopReason: ChatStopReason = "max_tokens";
    // Greedy replies chain their steps: the step for the next id is queued while this one runs, reading that id on
    // the GPU from this step's argmax (Engine.submit's chained steps), so the GPU does not wait for the id's round
    // trip. A chained step whose id ends the reply (end of generation, a stop request) is taken back out of the cache.
    let chained: PendingStep | undefined;
    const dropChained = async () => {
      if (!chained) return;
      const dropped = chained;
      chained = undefined;
      await dropped.results().catch(() => undefined);
      dropped.rollback();
    };
    try {
      while (outputIds.length < options.maxTokens) {
        if (options.shouldStop?.()) {
          stopReason = "stopped";
          break;
        }
        const id = nextId ?? sampler.sample(logits);
        outputIds.push(id);
        options.onToken?.(id);
        if (this.stopIds.has(id)) {
          stopReason = "eos";
          break;
        }
        if (this.cached.length + 1 > contextLength) {
          stopReason = "context_full";
          break;
        }
        if (outputIds.length === options.maxTokens) break;
        const pending = chained ?? await this.engine.submit([{ seqId: this.seqId, ids: [id], logits: sampler.isGreedy ? "argmax" : "last" }]);
        chained = undefined;
        const chainNext = sampler.isGreedy && !options.shouldStop?.() && outputIds.length + 1 < options.maxTokens &&
          this.cached.length + 2 <= contextLength && this.engine.canChainStep([this.seqId]);
        if (chainNext) chained = await this.engine.submit([{ seqId: this.seqId, ids: [0], logits: "argmax" }], { chained: true });
        const [result] = await pending.results();
        this.cached.push(id);
        logits = result!.logits;
        nextId = result!.argmax;
      }
    } finally {
      await dropChained();
    }
    return {
      outputIds,
      stopReason,
      usage: {
        prompt_tokens: promptIds.length,
        cached_tokens: reused,
        prefilled_tokens: promptIds.length - reused,
        completion_tokens: outputIds.length,
      },
      timings: { prefill_ms: prefillMs, decode_ms: performance.now() - decodeStart },
    };
  }

  /** How many of the cached ids the new prompt starts with, cut back to a block boundary for quantized KV. */
  private reusableLength(promptIds: number[]): number {
    let common = commonPrefixLength(this.cached, promptIds);
    const { blockSize, tails } = this.engine.sequences;
    if (tails > 0 && common < this.cached.length) common = Math.floor(common / blockSize) * blockSize;
    return common;
  }

  /** Frees the conversation's KV blocks. */
  close(): void {
    this.engine.sequences.free(this.seqId);
    this.cached = [];
  }
}
