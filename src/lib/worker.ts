// The dedicated worker the engine runs in by default: it only hosts the runtime and passes messages, so
// the page's main thread never waits on the GPU, tokenization or sampling.

import { serveCore } from "./host.js";
import type { ClientMessage, HostMessage } from "./protocol.js";

const scope = self as unknown as { postMessage(message: HostMessage): void; onmessage: ((event: MessageEvent<ClientMessage>) => void) | null };
const handle = serveCore((message) => scope.postMessage(message));
scope.onmessage = (event) => handle(event.data);
