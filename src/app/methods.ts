// The runtime methods a host may call (the page's window.webkv.call, the Dawn session's call): everything
// else on Runtime stays internal.

import type { Runtime } from "./runtime.js";

export const RUNTIME_METHODS = [
  "adapter", "load", "generate", "generateBatch", "kvOccupancy", "score", "tokenize", "detokenize", "memory", "buffers", "profile", "counters", "unload", "parseGguf",
  "chatOpen", "chatTurn", "chatStop", "chatClose", "liveBytes", "stop",
] as const;

export type RuntimeMethod = (typeof RUNTIME_METHODS)[number];

/** Calls runtime method `method` with `request`; an unknown name is an error naming it. */
export async function callRuntimeMethod(runtime: Runtime, method: string, request: unknown): Promise<unknown> {
  if (!RUNTIME_METHODS.includes(method as RuntimeMethod)) throw new Error(`unknown runtime method "${method}"`);
  const fn = runtime[method as RuntimeMethod] as (request: unknown) => unknown;
  return fn.call(runtime, request);
}
