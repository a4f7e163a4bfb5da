// The harness page's runtime (what the CLI drives) loads through the library's EngineCore, not a load of its
// own: its URL and options reach EngineCore.loadModel as given, and a failure there is the library's error.
// Runs in Node, which has no WebGPU, so the load stops at the core's first check — before any byte is read.

import { afterEach, describe, expect, it, vi } from "vitest";
import { Runtime } from "../../src/app/runtime.js";
import { parseKvSection } from "../../src/kv/formats.js";
import { EngineCore } from "../../src/lib/core.js";
import { NoWebGpuError } from "../../src/lib/errors.js";

afterEach(() => vi.restoreAllMocks());

describe("Runtime.load", () => {
  it("hands the URL and the CLI's load options to EngineCore.loadModel; no WebGPU is the core's NoWebGpuError, before any fetch", async () => {
    const loadModel = vi.spyOn(EngineCore.prototype, "loadModel");
    const fetch = vi.spyOn(globalThis, "fetch");
    const url = "http://127.0.0.1:9/never-served.gguf";
    const options = {
      kvBlocks: 8, maxSeqs: 2, maxStepTokens: 32, maxBindingBytes: 4096, contextSize: 64, kvBlockSize: 8, attention: "naive" as const,
      kvFormat: { k: parseKvSection("f16", "k"), v: parseKvSection("int8", "v") },
    };
    const failure = await new Runtime().load({ url, options }).catch((error: unknown) => error);
    expect(loadModel).toHaveBeenCalledOnce();
    expect(loadModel.mock.calls[0]![0]).toMatchObject({ name: url, options });
    expect(failure).toBeInstanceOf(NoWebGpuError);
    expect(failure).toMatchObject({ code: "no_webgpu", message: expect.stringMatching(/^WebGPU is not available in this browser/) });
    expect(fetch).not.toHaveBeenCalled();
  });

  it("still refuses a request with neither or both of url and bytes, before the core", async () => {
    const loadModel = vi.spyOn(EngineCore.prototype, "loadModel");
    await expect(new Runtime().load({})).rejects.toThrow("load needs exactly one of url or bytes");
    await expect(new Runtime().load({ url: "x", bytes: new Uint8Array(1) })).rejects.toThrow("load needs exactly one of url or bytes");
    expect(loadModel).not.toHaveBeenCalled();
  });
});
