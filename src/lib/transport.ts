// How the public API reaches the engine's host: a dedicated module worker (default), or the host running on
// the main thread. Either way calls are messages with ids, and events for a call come back tagged with it.

import { errorFromCode, UnloadedError, type WebkvError } from "./errors.js";
import type { ClientMessage, CoreMethod, HostMessage } from "./protocol.js";
import type { LoadProgress } from "./progress.js";

export interface CallHandlers {
  onToken?: (token: number, text: string) => void;
  onProgress?: (progress: LoadProgress) => void;
}

interface Pending extends CallHandlers {
  resolve(value: unknown): void;
  reject(error: WebkvError): void;
}

export class Transport {
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  private closed = false;

  private constructor(
    private readonly send: (message: ClientMessage) => void,
    private readonly shutdown: () => void,
  ) {}

  static worker(): Transport {
    const worker = new Worker(new URL("./worker.ts", import.meta.url), { type: "module", name: "webkv-engine" });
    const transport = new Transport((message) => worker.postMessage(message), () => worker.terminate());
    worker.onmessage = (event: MessageEvent<HostMessage>) => transport.receive(event.data);
    worker.onerror = (event) => transport.failAll(`the engine worker failed: ${event.message || "could not start"}`);
    return transport;
  }

  static async mainThread(): Promise<Transport> {
    const { serveCore } = await import("./host.js");
    let transport: Transport | undefined = undefined;
    const handle = serveCore((message) => queueMicrotask(() => transport!.receive(message)));
    transport = new Transport((message) => handle(message), () => undefined);
    return transport;
  }

  call<T>(method: CoreMethod, args: unknown, handlers: CallHandlers = {}): { id: number; result: Promise<T> } {
    const id = this.nextId++;
    if (this.closed) return { id, result: Promise.reject(new UnloadedError()) };
    const result = new Promise<T>((resolve, reject) => {
      this.pending.set(id, { ...handlers, resolve: resolve as (value: unknown) => void, reject });
    });
    this.send({ type: "call", id, method, args });
    return { id, result };
  }

  abort(id: number): void {
    if (!this.closed) this.send({ type: "abort", id });
  }

  close(): void {
    this.closed = true;
    this.shutdown();
    this.failAll("the engine was unloaded");
  }

  private failAll(message: string): void {
    for (const pending of this.pending.values()) pending.reject(new UnloadedError(message));
    this.pending.clear();
  }

  private receive(message: HostMessage): void {
    const pending = this.pending.get(message.id);
    if (!pending) return;
    switch (message.type) {
      case "progress":
        pending.onProgress?.(message.progress);
        break;
      case "token":
        pending.onToken?.(message.token, message.text);
        break;
      case "result":
        this.pending.delete(message.id);
        pending.resolve(message.value);
        break;
      case "error":
        this.pending.delete(message.id);
        pending.reject(errorFromCode(message.error.code, message.error.message));
        break;
    }
  }
}
