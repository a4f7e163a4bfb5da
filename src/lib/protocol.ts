// Messages between the public API (engine.ts) and the host of the engine's runtime (host.ts), the same
// whether the host is a dedicated worker or a function on the main thread. Values are structured-clonable
// (a Blob passes as is).

import type { LoadProgress } from "./progress.js";

export type CoreMethod = "load" | "generate" | "chat" | "resetChat" | "memory" | "kv" | "unload";

export type ClientMessage =
  | { type: "call"; id: number; method: CoreMethod; args: unknown }
  | { type: "abort"; id: number };

export interface WireError {
  name: string;
  code: string;
  message: string;
}

export type HostMessage =
  | { type: "progress"; id: number; progress: LoadProgress }
  | { type: "token"; id: number; token: number; text: string }
  | { type: "result"; id: number; value: unknown }
  | { type: "error"; id: number; error: WireError };
