// The host side of the protocol: takes messages, runs them on an EngineCore, posts results and streamed
// events back. The worker (worker.ts) and the main-thread engine both use it, so the runtime code and
// its message handling are the same in both.

import { EngineCore, type ChatCoreRequest, type CoreLoadRequest, type GenerateCoreRequest } from "./core.js";
import { toWebkvError } from "./errors.js";
import type { ClientMessage, HostMessage } from "./protocol.js";

export function serveCore(post: (message: HostMessage) => void): (message: ClientMessage) => void {
  const core = new EngineCore();
  return (message) => {
    if (message.type === "abort") return core.abort(message.id);
    const { id, method, args } = message;
    const onToken = (token: number, text: string) => post({ type: "token", id, token, text });
    const run = async (): Promise<unknown> => {
      switch (method) {
        case "load":
          return core.load(args as CoreLoadRequest, (progress) => post({ type: "progress", id, progress }));
        case "generate":
          return core.generate(id, args as GenerateCoreRequest, onToken);
        case "chat":
          return core.chat(id, args as ChatCoreRequest, onToken);
        case "resetChat":
          return core.resetChat();
        case "memory":
          return core.memory();
        case "kv":
          return core.kv();
        case "unload":
          return core.unload();
      }
    };
    run().then(
      (value) => post({ type: "result", id, value }),
      (error: unknown) => {
        const e = toWebkvError(error);
        post({ type: "error", id, error: { name: e.name, code: e.code, message: e.message } });
      },
    );
  };
}
