// The runtime methods a host may call (the page's window.webkv.call, the Dawn session's call): everything
// else on Runtime stays internal.

export const RUNTIME_METHODS = [
  "adapter", "load", "generate", "generateBatch", "kvOccupancy", "score", "tokenize", "detokenize", "memory", "buffers", "profile", "counters", "unload", "parseGguf",
  "chatOpen", "chatTurn", "chatStop", "chatClose", "liveBytes", "stop",
] as const;

export type RuntimeMethod = (typeof RUNTIME_METHODS)[number];
