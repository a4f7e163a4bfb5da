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

/** A host's event listeners: `add` returns the listener's removal, `emit` calls every listener. */
export class RuntimeEventListeners {
  private listeners: ((event: RuntimeEvent) => void)[] = [];

  add(listener: (event: RuntimeEvent) => void): () => void {
    this.listeners.push(listener);
    return () => (this.listeners = this.listeners.filter((l) => l !== listener));
  }

  emit(event: RuntimeEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}
