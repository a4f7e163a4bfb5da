// What a command needs from wherever the runtime runs: the page in Chromium (session.ts, the default and
// the reference) or this Node process on Dawn (dawn.ts).

import type { RuntimeEvent } from "../app/runtime.js";

export interface RuntimeHost {
  readonly backend: "chromium" | "dawn";
  /** Calls a runtime method (src/app/methods.ts); failures are WebkvError with the runtime's code. */
  call<T = unknown>(method: string, args?: unknown): Promise<T>;
  onEvent(handler: (event: RuntimeEvent) => void): () => void;
  /** Serves a local file to the runtime; returns its URL. */
  publishFile(path: string): string;
  close(): Promise<void>;
}
