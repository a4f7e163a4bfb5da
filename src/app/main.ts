// Page entry: exposes the runtime to the Node harness as window.webkv.call(method, encodedArgs).
// Results and errors come back encoded (wire.ts); events go out through window.__webkvEvent when the
// harness has exposed it.

import { KernelLab, LAB_METHODS } from "./kernel-lab.js";
import { callRuntimeMethod } from "./methods.js";
import { Runtime, type RuntimeEvent } from "./runtime.js";
import { decodeWire, encodeWire, errorToWire } from "./wire.js";

declare global {
  interface Window {
    webkv: { call(method: string, args: unknown): Promise<unknown>; ready: true };
    __webkvEvent?: (event: RuntimeEvent) => void;
  }
}

const status = document.getElementById("status");
const runtime = new Runtime((event) => {
  window.__webkvEvent?.(event);
  if (status && event.type === "progress") status.textContent = `${event.message} ${(event.fraction * 100).toFixed(0)}%`;
});

const lab = new KernelLab();

window.webkv = {
  ready: true,
  async call(method: string, args: unknown) {
    try {
      let result: unknown;
      if (method.startsWith("lab.")) {
        const name = method.slice(4) as (typeof LAB_METHODS)[number];
        if (!LAB_METHODS.includes(name)) throw new Error(`unknown kernel lab method "${name}"`);
        result = await (lab[name] as (request: unknown) => Promise<unknown>).call(lab, decodeWire(args));
      } else {
        result = await callRuntimeMethod(runtime, method, decodeWire(args));
      }
      return { ok: true, value: encodeWire(result) };
    } catch (error) {
      return { ok: false, error: errorToWire(error) };
    }
  },
};
if (status) status.textContent = "ready";
