// llama.cpp as a reference, through the node-llama-cpp devDependency (CPU build, one thread).
// Teacher-forced logits for whole id sequences, one dense Float32Array per position.
//
// Notes on node-llama-cpp 3.x here:
//   - threads: 1 is required: the default thread pool hangs on this machine.
//   - The KV cache is F32 unless asked otherwise (llama.cpp's default is F16, which alone moves stories260K's
//     logits by ~4e-2); flash attention is off so attention takes the plain path.
//   - controlledEvaluate's `logits: true` gives a Map of every token's logit (sorted by value, highest first);
//     with the default (greedy) sampler these are the model's raw logits, unchanged.
//   - llama.cpp's log lines go to our logger, kept in memory and shown only when something fails.

import { getLlama, LlamaLogLevel, type Llama, type LlamaModel, type Token } from "node-llama-cpp";

export type KvCacheType = "F32" | "F16";

export interface LlamaCppOptions {
  /** KV cache element type. "F32" (default) keeps the comparison free of cache rounding; "F16" is llama.cpp's default. */
  kvCacheType?: KvCacheType;
  /** Context size (default: the longest sequence, rounded up to 256). */
  contextSize?: number;
}

const recentLogs: string[] = [];
const MAX_KEPT_LOGS = 200;

function keepLog(level: LlamaLogLevel, message: string): void {
  recentLogs.push(`[${level}] ${message.trimEnd()}`);
  if (recentLogs.length > MAX_KEPT_LOGS) recentLogs.shift();
}

/** The last lines llama.cpp logged (for error messages). */
export function llamaCppRecentLogs(): string[] {
  return [...recentLogs];
}

let llamaPromise: Promise<Llama> | undefined;

/** One llama.cpp instance per process (loading the native binding takes a while). */
export function sharedLlama(): Promise<Llama> {
  llamaPromise ??= getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.warn, logger: keepLog });
  return llamaPromise;
}

/** Dense logits from node-llama-cpp's Map<token, logit>, which holds one entry for every token of the vocabulary. */
function denseLogits(logits: Map<Token, number>): Float32Array {
  const dense = new Float32Array(logits.size);
  for (const [token, logit] of logits) {
    if (!(token >= 0 && token < logits.size)) throw new Error(`logit for token ${token} outside a vocabulary of ${logits.size}`);
    dense[token] = logit;
  }
  return dense;
}

/**
 * Teacher-forced logits from llama.cpp: for each sequence, result[s][p] is the logits after feeding
 * sequences[s][0..p] (so it predicts sequences[s][p + 1]). Each sequence starts from an empty KV cache.
 */
export async function llamaCppLogits(
  modelPath: string,
  sequences: number[][],
  options: LlamaCppOptions = {},
): Promise<Float32Array[][]> {
  const llama = await sharedLlama();
  const longest = Math.max(1, ...sequences.map((ids) => ids.length));
  const contextSize = options.contextSize ?? Math.ceil(longest / 256) * 256;
  const kvCacheType = options.kvCacheType ?? "F32";

  let model: LlamaModel | undefined;
  try {
    model = await llama.loadModel({ modelPath });
    const context = await model.createContext({
      contextSize,
      threads: 1,
      flashAttention: false,
      experimentalKvCacheKeyType: kvCacheType,
      experimentalKvCacheValueType: kvCacheType,
    });
    try {
      const sequence = context.getSequence();
      const results: Float32Array[][] = [];
      for (const ids of sequences) {
        await sequence.clearHistory(); // every sequence starts at position 0 with an empty cache
        const outputs = await sequence.controlledEvaluate(ids.map((id) => [id as Token, { generateNext: { logits: true } }] as const));
        results.push(
          outputs.map((output, position) => {
            const logits = output?.next.logits;
            if (!logits) throw new Error(`llama.cpp returned no logits at position ${position}`);
            return denseLogits(logits);
          }),
        );
      }
      sequence.dispose();
      return results;
    } finally {
      await context.dispose();
    }
  } catch (error) {
    const logs = recentLogs.slice(-20).join("\n");
    throw new Error(`llama.cpp failed on ${modelPath}: ${(error as Error).message}${logs ? `\nllama.cpp log:\n${logs}` : ""}`, {
      cause: error,
    });
  } finally {
    await model?.dispose();
  }
}

/** Releases the shared llama.cpp instance (call from afterAll). */
export async function disposeSharedLlama(): Promise<void> {
  const pending = llamaPromise;
  llamaPromise = undefined;
  if (pending) await (await pending).dispose();
}
